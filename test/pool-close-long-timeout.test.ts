/**
 * close() after a pool call was aborted while a pool thread still imports the handler module lets the
 * import finish first (up to timeoutMs after the call stopped), also with a timeoutMs past what a Node timer holds (2^31 - 1 ms,
 * about 24.8 days: "no timeout" in practice). Such a timer fires after 1 ms instead, with a
 * TimeoutOverflowWarning: close() stopped the thread in the middle of the import.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, tempDir, waitFor } from './kit.js';

const test = suite('pool close long timeout');

for (const timeoutMs of [5_000, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
  test(`timeoutMs ${timeoutMs}: close() after an abort during the handler module's import waits for the import, without a warning`, async () => {
    const logDir = await logOf(5, POOL_LOG);
    const dir = tempDir();
    const path = join(dir, 'slow-import.mjs');
    writeFileSync(path, [
      "import { writeFileSync } from 'node:fs';",
      "writeFileSync(new URL('./importing', import.meta.url), '');",
      'await new Promise((r) => setTimeout(r, 300));',
      "writeFileSync(new URL('./imported', import.meta.url), '');",
      "export default () => 'commit';",
      '',
    ].join('\n'));
    const warnings: string[] = [];
    const onWarning = (w: Error): void => { warnings.push(`${w.name}: ${w.message}`); };
    process.on('warning', onWarning);
    try {
      const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('slow') });
      const ac = new AbortController();
      const call = c.blockingProcess(null, path, { workers: 1, timeoutMs, signal: ac.signal }).then((v) => v, (e: unknown) => e as Error);
      await waitFor(() => existsSync(join(dir, 'importing')), 'the import started');
      ac.abort(); // the call ends at once; the import goes on in its thread
      const s = await call;
      assert.ok(!(s instanceof Error), `the call failed: ${String(s)}`);
      const closed = await guarded(c.close().then(() => 'closed' as const));
      assert.is(closed, 'closed');
      assert.ok(existsSync(join(dir, 'imported')), 'close() let the import finish before it stopped the thread');
      await new Promise((r) => setImmediate(r)); // a warning is emitted on the next tick
      assert.equal(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });
}

test.run();
