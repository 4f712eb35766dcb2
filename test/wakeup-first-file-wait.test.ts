/**
 * A consumer tailing the files (no producer in its process) starts its directory watch on its first
 * wait. A record another process writes after the consumer's last read and before that wait must
 * still be delivered at once, not after the poll interval: the test appends it, in a child process
 * run to completion, at the entry of the wait, with a poll far longer than the bound it checks.
 */
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Consumer } from '../src/consumer/consumer.js';
import { Waiter } from '../src/consumer/waiter.js';
import { ConsumerStyle, Whence, type Message } from '../src/types.js';
import { suite, tempDir } from './kit.js';

const test = suite('wakeup-first-file-wait');
const APPENDER = fileURLToPath(new URL('./fixtures/append-records.mjs', import.meta.url));
/** The fallback poll: a record seen only through it comes after this long. */
const POLL_MS = 30_000;
/** Far more than a wake-up by the watch takes on a loaded machine, far less than POLL_MS. */
const BOUND_MS = 8_000;

function appendInChild(logDir: string, ...texts: string[]): void {
  execFileSync(process.execPath, [APPENDER, logDir, ...texts], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** `p`'s record, or 'late' after BOUND_MS (a failure guard, not a wait). */
function within(p: Promise<IteratorResult<Message, void>>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => { timer = setTimeout(() => resolve('late'), BOUND_MS); });
  const text = p.then((r) => (r.done === true ? 'done' : Buffer.from(r.value.data).toString()));
  return Promise.race([text, late]).finally(() => clearTimeout(timer));
}

for (const style of ['nonTx', 'clientTx'] as const) {
  test(`${style}: a record written between the last read and the first wait comes without the poll`, async () => {
    const logDir = tempDir();
    appendInChild(logDir, 'r0');
    const c = await Consumer.open({
      logDir, pollIntervalMs: POLL_MS,
      style: style === 'nonTx' ? ConsumerStyle.nonTx(Whence.oldest()) : ConsumerStyle.clientTx('first-wait'),
    });
    const onFiles = Waiter.prototype.onFiles;
    let appended = false;
    let appendedAt = 0;
    Waiter.prototype.onFiles = function (this: Waiter, signal: AbortSignal | undefined): Promise<void> {
      if (!appended) {
        appended = true;
        appendInChild(logDir, 'r1'); // after the read that found nothing, before the wait starts
        appendedAt = Date.now();
      }
      return onFiles.call(this, signal);
    };
    try {
      const it = c.tail();
      assert.is(await within(it.next()), 'r0');
      assert.is(await within(it.next()), 'r1', `the record written before the first wait came within ${BOUND_MS} ms`);
      assert.ok(appended, 'the record was appended at the wait');
      console.log(`  ${style}: delivered ${Date.now() - appendedAt} ms after the child wrote it`);
      await it.return();
    } finally {
      Waiter.prototype.onFiles = onFiles;
      await c.close();
    }
  });
}

test.run();
