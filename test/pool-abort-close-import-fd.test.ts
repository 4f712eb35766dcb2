/**
 * An abort ends a pool call at once while the pool's threads may still be importing the handler
 * module; a close() right after (or any close() while an earlier call's import still runs in a
 * thread) stops the pool's threads. Node 20's module loader reads a module's file through an
 * fs/promises FileHandle, and a thread stopped during that read leaves the descriptor open in the
 * process. close() lets those imports finish (up to timeoutMs after the call stopped), so no
 * descriptor is left; and an import that never settles still does not hold close() past that bound.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded, openFds } from './pool-kit.js';
import { suite, logOf, tempDir } from './kit.js';

const test = suite('pool abort close import fd');

/** A handler module of about 4 MiB (a long comment), so that its file takes a while to read. */
function bigHandler(dir: string): string {
  const path = join(dir, 'handler.mjs');
  writeFileSync(path, `${`// ${'x'.repeat(1021)}\n`.repeat(4096)}export default () => 'commit';\n`);
  return path;
}

test('open, start a pool call, abort it and close at once, 10 times: no descriptor of a module file is left open', async () => {
  if (!existsSync('/proc/self/fd')) return; // descriptors are counted in /proc
  const logDir = await logOf(20, POOL_LOG);
  const path = bigHandler(tempDir());
  const before = openFds();
  for (let i = 0; i < 10; i++) {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('abort-import-fd') });
    const ac = new AbortController();
    const call = c.blockingProcess(null, path, { workers: 2, timeoutMs: 10_000, signal: ac.signal }).then((v) => v, (e: unknown) => e as Error);
    ac.abort();
    const s = await guarded(call);
    assert.ok(s !== 'stuck' && !(s instanceof Error), `the call failed: ${String(s)}`);
    const closed = await guarded(c.close().then(() => 'closed' as const));
    assert.ok(closed !== 'stuck', `close() did not return (round ${i})`);
  }
  const leaked = [...openFds()].filter(([fd, what]) => before.get(fd) !== what && what.endsWith('.mjs'));
  assert.equal(leaked, [], `module files left open after 10 rounds: ${leaked.map(([fd, what]) => `${fd} -> ${what}`).join(', ')}`);
});

test('a handler module whose import never settles: close() after an abort still returns, about timeoutMs after the abort', async () => {
  const logDir = await logOf(5, POOL_LOG);
  const path = join(tempDir(), 'hang.mjs');
  writeFileSync(path, 'await new Promise(() => {});\nexport default () => \'commit\';\n');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('abort-import-hang') });
  const ac = new AbortController();
  const call = c.blockingProcess(null, path, { workers: 2, timeoutMs: 1_000, signal: ac.signal }).then((v) => v, (e: unknown) => e as Error);
  ac.abort();
  const abortedAt = performance.now();
  const s = await guarded(call);
  assert.ok(s !== 'stuck' && !(s instanceof Error), `the call failed: ${String(s)}`);
  const closed = await guarded(c.close().then(() => 'closed' as const));
  assert.ok(closed !== 'stuck', 'close() did not return');
  const took = performance.now() - abortedAt;
  assert.ok(took < 10_000, `close() returned ${Math.round(took)} ms after the abort (timeoutMs 1000)`);
});

test.run();
