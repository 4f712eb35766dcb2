/**
 * close() or an abort that comes before the pool's threads got their tasks (right after the call
 * started, while the threads boot): no thread begins importing the handler module, and close() does
 * not wait for an import. A thread that got its task after the stop imported the module all the same
 * (its top-level code ran after the call had stopped), and close() then waited for that import, up to
 * timeoutMs.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readdirSync, writeFileSync } from 'node:fs';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, tempDir } from './kit.js';

const test = suite('pool stop before import');

/** A module that leaves `<dir>/importing-<thread>` and then waits at its top level until `<dir>/gate` exists (up to 20 s). */
function slowModule(): { dir: string; path: string } {
  const dir = tempDir();
  const path = join(dir, 'slow.mjs');
  writeFileSync(path, [
    `import { existsSync, writeFileSync } from 'node:fs';`,
    `import { threadId } from 'node:worker_threads';`,
    `writeFileSync(${JSON.stringify(dir)} + '/importing-' + threadId, '');`,
    `for (let waited = 0; !existsSync(${JSON.stringify(join(dir, 'gate'))}) && waited < 20_000; waited += 10) await new Promise((r) => setTimeout(r, 10));`,
    `export default () => 'commit';`,
  ].join('\n'));
  return { dir, path };
}

const importing = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('importing-'));

test('close() right after a pool call started: no thread imports the handler module, close() does not wait for it', async () => {
  const logDir = await logOf(20, POOL_LOG);
  const { dir, path } = slowModule();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('close-early') });
  try {
    const call = c.nonblockingProcess(null, path, { workers: 2, batchRecords: 5, timeoutMs: 10_000 });
    const t0 = performance.now();
    const closed = await guarded(c.close().then(() => 'closed' as const));
    const ms = performance.now() - t0;
    assert.is(closed, 'closed');
    assert.equal(await call, { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' });
    assert.equal(importing(dir), [], 'a thread began importing the handler module after close()');
    assert.ok(ms < 5_000, `close() took ${Math.round(ms)} ms (timeoutMs 10,000; no import was in progress at the close)`);
  } finally {
    writeFileSync(join(dir, 'gate'), '');
  }
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('close-early') });
  assert.is(again.committedOffset, 0);
  await again.close();
});

test('an abort right after a pool call started: no thread imports the handler module, close() then returns at once', async () => {
  const logDir = await logOf(20, POOL_LOG);
  const { dir, path } = slowModule();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('abort-early') });
  try {
    const ac = new AbortController();
    const call = c.nonblockingProcess(null, path, { workers: 2, batchRecords: 5, timeoutMs: 10_000, signal: ac.signal });
    ac.abort();
    assert.equal(await guarded(call), { committed: 0, skipped: 0, retried: 0, stoppedBy: 'abort' });
    const t0 = performance.now();
    const closed = await guarded(c.close().then(() => 'closed' as const));
    const ms = performance.now() - t0;
    assert.is(closed, 'closed');
    assert.equal(importing(dir), [], 'a thread began importing the handler module after the abort');
    assert.ok(ms < 5_000, `close() took ${Math.round(ms)} ms (timeoutMs 10,000; no import was in progress at the abort)`);
  } finally {
    writeFileSync(join(dir, 'gate'), '');
  }
});

test.run();
