/**
 * A handler module whose import fails on some of the pool's threads only (here: every thread but the
 * first to import it): the call rejects with ERR_INVALID_OPTION ('handler'), as when it fails
 * everywhere, and no record runs, not even on the thread that imported it, and the cursor stays. The
 * lanes begin their first record only once every lane of the round has its handler.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readdirSync, writeFileSync } from 'node:fs';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, tempDir } from './kit.js';

const test = suite('pool import fails on some threads');

/**
 * A module whose first import (of the process) succeeds; every later one waits for `<dir>/go` (up to
 * 20 s) and then throws. Its handler leaves `<dir>/ran-<offset>` and commits.
 */
function someThreadsModule(): { dir: string; path: string } {
  const dir = tempDir();
  const path = join(dir, 'some.mjs');
  const at = (f: string): string => JSON.stringify(join(dir, f));
  writeFileSync(path, [
    `import { existsSync, writeFileSync } from 'node:fs';`,
    `let first = true;`,
    `try { writeFileSync(${at('first')}, '', { flag: 'wx' }); } catch { first = false; }`,
    `if (!first) {`,
    `  for (let waited = 0; !existsSync(${at('go')}) && waited < 20_000; waited += 10) await new Promise((r) => setTimeout(r, 10));`,
    `  throw new Error('not on this thread');`,
    `}`,
    `export default (msg) => { writeFileSync(${JSON.stringify(dir)} + '/ran-' + msg.offset, ''); return 'commit'; };`,
  ].join('\n'));
  return { dir, path };
}

/** P32.READY of the round's progress block (src/consumer/pool-protocol.ts): lanes whose handler is loaded. */
const READY = 5;
type Internals = { calls: { pools: Map<number, { round: { pv: { i32: Int32Array } } | null }> } };
const lanesReady = (c: Consumer): number => Math.max(0, ...[...(c as unknown as Internals).calls.pools.values()].map((p) => {
  const i32 = p.round?.pv.i32;
  return i32 !== undefined && i32.length > READY ? Atomics.load(i32, READY) : 0;
}));
const ran = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('ran-'));

test('an import that fails on one thread of two: ERR_INVALID_OPTION, no record run, the cursor stays', async () => {
  const logDir = await logOf(20, POOL_LOG);
  const { dir, path } = someThreadsModule();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('some-threads') });
  let done = false;
  const call = c.nonblockingProcess(null, path, { workers: 2, batchRecords: 1, timeoutMs: 20_000 })
    .then((v) => v, (e: unknown) => e as Error).finally(() => { done = true; });
  // The failing import goes on once the other thread ran a record, or holds its lane before the first one.
  while (!done && ran(dir).length === 0 && lanesReady(c) < 1) await new Promise((r) => setTimeout(r, 5));
  writeFileSync(join(dir, 'go'), '');
  const s = await guarded(call);
  await c.close();
  assert.instance(s, Error);
  assert.is((s as Error & { code?: string }).code, 'ERR_INVALID_OPTION');
  assert.is((s as Error & { details?: { option?: string } }).details?.option, 'handler');
  assert.equal(ran(dir), [], 'records ran though the handler module failed to import on a thread');
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('some-threads') });
  assert.is(again.committedOffset, 0);
  await again.close();
});

test.run();
