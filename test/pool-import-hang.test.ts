/**
 * A pool handler module whose import never settles (a top-level await on a service that does not
 * answer, or a loop that never yields): close() and an abort still end the call, as they do while a
 * handler call runs; no record runs and the cursor stays. (timeoutMs bounds the import too, from its
 * start: test/pool-import-bound.test.ts; here the stop comes first.)
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, tempDir, waitFor } from './kit.js';

const test = suite('pool import hang');

/** A module that leaves `<dir>/importing` and then waits forever at its top level (a live timer keeps the thread up). */
function hangingModule(spin = false): { path: string; marker: string } {
  const dir = tempDir();
  const marker = join(dir, 'importing');
  const path = join(dir, 'hanging.mjs');
  writeFileSync(path, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, '');\n`
    + (spin ? 'for (;;) { /* spin */ }\n' : 'await new Promise(() => setInterval(() => {}, 1000));\n') + 'export default () => \'commit\';\n');
  return { path, marker };
}

for (const [how, spin, workers] of [['hangs', false, 2], ['spins (the thread never yields)', true, 1]] as const) {
  test(`close() during a pool call whose handler module ${how} at import ends the call within about timeoutMs`, async () => {
    const logDir = await logOf(20, POOL_LOG);
    const { path, marker } = hangingModule(spin);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('import-hang') });
    const call = c.blockingProcess(null, path, { workers, timeoutMs: 2_000 }).then((v) => v, (e: unknown) => e as Error);
    await waitFor(() => existsSync(marker), 'the handler module to be importing');
    const closed = guarded(c.close().then(() => 'closed' as const));
    const s = await guarded(call);
    assert.ok(s !== 'stuck', 'the call did not end after close()');
    assert.ok(await closed !== 'stuck', 'close() did not return');
    assert.equal(s, { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' });
    const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('import-hang') });
    assert.is(again.committedOffset, 0, 'no record was committed');
    await again.close();
  });
}

test('an abort during a pool call whose handler module import hangs ends the call', async () => {
  const logDir = await logOf(20, POOL_LOG);
  const { path, marker } = hangingModule();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('import-abort') });
  const ac = new AbortController();
  const call = c.nonblockingProcess(null, path, { workers: 1, timeoutMs: 2_000, signal: ac.signal }).then((v) => v, (e: unknown) => e as Error);
  await waitFor(() => existsSync(marker), 'the handler module to be importing');
  ac.abort();
  const s = await guarded(call);
  assert.ok(s !== 'stuck', 'the call did not end after the abort');
  assert.equal(s, { committed: 0, skipped: 0, retried: 0, stoppedBy: 'abort' });
  assert.is(c.committedOffset, 0);
  const closed = await guarded(c.close().then(() => 'closed' as const));
  assert.ok(closed !== 'stuck', 'close() did not return');
});

test.run();
