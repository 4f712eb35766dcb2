/**
 * A pool handler module whose import never settles (a top-level await on a service that does not
 * answer), on any one thread, held the call for good: no lane begins a record before every lane has
 * the handler, and timeoutMs bounded handler calls only, so a call with no signal and no close()
 * never returned. The import is bounded by timeoutMs as a handler call is: the call rejects with
 * ERR_INVALID_OPTION ('handler') naming the module, no record runs and the cursor stays; close()
 * then returns.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { Consumer, ConsumerStyle, LogError } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, tempDir } from './kit.js';

const test = suite('pool-import-bound');

/**
 * A module whose first import of the process never settles; every later one (another thread) loads
 * at once. Its handler leaves `<dir>/ran-<offset>`. `spin`: the first import never yields instead.
 */
function oneThreadHangs(spin: boolean): { dir: string; path: string } {
  const dir = tempDir();
  const path = join(dir, 'hang-one.mjs');
  const at = (f: string): string => JSON.stringify(join(dir, f));
  writeFileSync(path, [
    `import { writeFileSync } from 'node:fs';`,
    `let first = true;`,
    `try { writeFileSync(${at('first')}, '', { flag: 'wx' }); } catch { first = false; }`,
    spin ? `if (first) for (;;) { /* spin */ }` : `if (first) await new Promise(() => setInterval(() => {}, 1000));`,
    `export default (msg) => { writeFileSync(${JSON.stringify(dir)} + '/ran-' + msg.offset, ''); return 'commit'; };`,
  ].join('\n'));
  return { dir, path };
}

for (const [how, spin] of [['hangs', false], ['spins', true]] as const) {
  for (const blocking of [true, false]) {
    test(`${blocking ? 'blockingProcess' : 'nonblockingProcess'}: an import that ${how} on one thread fails the call with ERR_INVALID_OPTION within a bound`, async () => {
      const logDir = await logOf(20, POOL_LOG);
      const { dir, path } = oneThreadHangs(spin);
      const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('import-bound') });
      try {
        const opts = { workers: 2, timeoutMs: 500, batchRecords: 4 };
        const call = blocking ? c.blockingProcess(null, path, opts) : c.nonblockingProcess(null, path, opts);
        const r = await guarded(call.then((v) => v, (e: unknown) => e));
        assert.ok(r !== 'stuck', 'the call still runs 20 s after it began: the import is not bounded');
        assert.ok(r instanceof LogError, `not a LogError: ${JSON.stringify(r)}`);
        assert.is(r.code, 'ERR_INVALID_OPTION', r.message);
        assert.is(r.details.option, 'handler');
        assert.match(r.message, path);
        assert.is(c.committedOffset, 0, 'no record was committed');
        assert.ok(!existsSync(join(dir, 'ran-0')), 'a record ran');
      } finally {
        const closed = await guarded(c.close().then(() => 'closed' as const, () => 'closed' as const));
        assert.ok(closed !== 'stuck', 'close() did not return');
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

/**
 * A module whose first two imports (the pool's two threads) load; the third (a thread started in
 * place of a lost one) never settles. Its handler exits the thread at record `dieAt`, once.
 */
function replacementHangs(dieAt: number): { dir: string; path: string } {
  const dir = tempDir();
  const path = join(dir, 'hang-third.mjs');
  const at = (f: string): string => JSON.stringify(join(dir, f));
  writeFileSync(path, [
    `import { writeFileSync } from 'node:fs';`,
    `let n = 1;`,
    `for (;; n++) { try { writeFileSync(${JSON.stringify(dir)} + '/import-' + n, '', { flag: 'wx' }); break; } catch { /* taken */ } }`,
    `if (n >= 3) await new Promise(() => setInterval(() => {}, 1000));`,
    `export default (msg) => {`,
    `  if (msg.offset === ${dieAt}) { try { writeFileSync(${at('died')}, '', { flag: 'wx' }); process.exit(1); } catch { /* once */ } }`,
    `  return 'commit';`,
    `};`,
  ].join('\n'));
  return { dir, path };
}

test('a worker started in place of a lost one whose import hangs fails the call with ERR_INVALID_OPTION within a bound', async () => {
  const logDir = await logOf(20, POOL_LOG);
  const { dir, path } = replacementHangs(5);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('reimport-bound') });
  try {
    // Blocking: the other lane's thread stays busy waiting for records, so the lost lane gets a new thread.
    const r = await guarded(c.blockingProcess(null, path, { workers: 2, timeoutMs: 500, batchRecords: 4 }).then((v) => v, (e: unknown) => e));
    assert.ok(r !== 'stuck', 'the call still runs 20 s after it began: the import is not bounded');
    assert.ok(r instanceof LogError, `not a LogError: ${JSON.stringify(r)}`);
    assert.is(r.code, 'ERR_INVALID_OPTION', r.message);
    assert.is(r.details.option, 'handler');
    assert.ok(existsSync(join(dir, 'import-3')), 'a third import began');
    assert.ok((c.committedOffset ?? 0) <= 5, `the cursor stops before the lost record: ${String(c.committedOffset)}`);
  } finally {
    const closed = await guarded(c.close().then(() => 'closed' as const, () => 'closed' as const));
    assert.ok(closed !== 'stuck', 'close() did not return');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
