/**
 * A worker lost during its import of the handler module (its thread ended mid-import) is started
 * again, and the new thread imports the module anew: timeoutMs bounds that import from its own
 * start. The coordinator kept counting from when it first saw the lost thread importing (the lane
 * stayed "importing" across the loss), so a replacement whose own import took well under timeoutMs
 * failed the call with ERR_INVALID_OPTION ('handler') once the two imports together passed it.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, tempDir } from './kit.js';

const test = suite('pool-import-relaunch-bound');

/** The process's first import takes `firstMs`, then ends its thread; every later one loads after `laterMs`. */
function firstImportDies(firstMs: number, laterMs: number): { dir: string; path: string } {
  const dir = tempDir();
  const path = join(dir, 'slow-dies-once.mjs');
  writeFileSync(path, [
    `import { writeFileSync } from 'node:fs';`,
    `let first = true;`,
    `try { writeFileSync(${JSON.stringify(join(dir, 'first'))}, '', { flag: 'wx' }); } catch { first = false; }`,
    `await new Promise((resolve) => setTimeout(resolve, first ? ${firstMs} : ${laterMs}));`,
    `if (first) process.exit(1);`,
    `export default () => 'commit';`,
  ].join('\n'));
  return { dir, path };
}

for (const blocking of [false, true]) {
  test(`${blocking ? 'blockingProcess' : 'nonblockingProcess'}: a replacement's import within timeoutMs is not charged with the lost thread's import time`, async () => {
    const logDir = await logOf(6, POOL_LOG);
    // Each import takes less than timeoutMs (2,000 ms): 1,600 ms the lost one, 1,000 ms the next; together more.
    const { dir, path } = firstImportDies(1_600, 1_000);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('relaunch-bound') });
    try {
      const opts = { workers: 1, timeoutMs: 2_000, batchRecords: 4 };
      const ac = new AbortController();
      const call = blocking
        ? c.blockingProcess(6, path, { ...opts, signal: ac.signal })
        : c.nonblockingProcess(null, path, opts);
      const r = await guarded(call.then((v) => v, (e: unknown) => e));
      assert.ok(r !== 'stuck', 'the call still runs 20 s after it began');
      assert.ok(!(r instanceof Error), `the call failed: ${r instanceof Error ? `${(r as { code?: string }).code} ${r.message}` : ''}`);
      assert.is((r as { committed: number }).committed, 6, JSON.stringify(r));
      assert.is(c.committedOffset, 6);
    } finally {
      const closed = await guarded(c.close().then(() => 'closed' as const, () => 'closed' as const));
      assert.ok(closed !== 'stuck', 'close() did not return');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
