/**
 * A pool call on a consumer tailing the files leaves its wait for the files' end pending when it
 * returns, and the next call starts another: close() must end both, or the older one's poll timer
 * (`pollIntervalMs`, up to 60 s) keeps the process alive after everything was closed.
 */
import * as assert from 'uvu/assert';
import { Child } from './child.js';
import { liveLogOf, suite } from './kit.js';

const test = suite('wakeup-pool-close-exit');
const POLL_MS = 30_000;
/** Far more than a closed process takes to exit on a loaded machine, far less than POLL_MS. */
const EXIT_BOUND_MS = 10_000;

test('a process that ran two blocking pool calls on the files exits once the consumer is closed', async () => {
  const { logDir, p } = await liveLogOf(Array.from({ length: 10 }, (_, i) => `rec-${i}`));
  await p.close();
  const child = Child.fork('pool-calls-close.mjs', [logDir, String(POLL_MS)], { execArgv: [] });
  const closed = await child.next('closed', 60_000);
  assert.is(closed['committed'], 6);
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), EXIT_BOUND_MS); });
  const outcome = await Promise.race([child.exited.then(() => 'exited' as const), late]).finally(() => clearTimeout(timer));
  assert.is(outcome, 'exited', `the process exits within ${EXIT_BOUND_MS} ms of close() (stderr: ${child.stderr})`);
  console.log(`  exited ${Date.now() - t0} ms after close()`);
  assert.equal(child.exitInfo, { code: 0, signal: null });
});

test.run();
