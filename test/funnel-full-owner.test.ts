/**
 * A remote producer whose owner is alive but waits for ring room (retention blocks its writer): the
 * owner answers an APPEND only once its `append` returned or threw ERR_LOG_FULL after its
 * appendTimeoutMs, and its thread sends nothing meanwhile. A client whose connectTimeoutMs is below
 * that bound gets ERR_LOG_FULL for the refused appends, as a local append would, not ERR_IO "did not
 * answer within connectTimeoutMs" with its appends in doubt; the connection goes on. So do several
 * clients whose batches wait for room one after the other (the owner tells the others it is alive).
 */
import * as assert from 'uvu/assert';
import { ErrorCode, Producer } from '../dist/index.js';
import { Child } from './child.js';
import { suite, tempDir } from './kit.js';

const test = suite('funnel-full-owner');
const CONNECT_TIMEOUT_MS = 500;
const APPEND_TIMEOUT_MS = 1_500;
/**
 * The owner's options: retention holds the writer back once the log holds 64 KiB, so the ring (64
 * KiB) fills, and the owner's append waits APPEND_TIMEOUT_MS for room, its thread blocked.
 */
const FULL = { ringBytes: 64 * 1024, appendTimeoutMs: APPEND_TIMEOUT_MS, fileRollSize: 1024, maxTotalBytes: 64 * 1024, blockingMinimumRetention: 3_600_000 };

/** How many of `settled` resolved ("ok"), and rejected with each code. */
function codesOf(settled: PromiseSettledResult<number>[]): Record<string, number> {
  const codes: Record<string, number> = {};
  for (const s of settled) {
    const k = s.status === 'fulfilled' ? 'ok' : String((s.reason as { code?: string }).code);
    codes[k] = (codes[k] ?? 0) + 1;
  }
  return codes;
}

test('appends to an owner whose ring stays full past connectTimeoutMs reject with ERR_LOG_FULL, not ERR_IO', async () => {
  const logDir = tempDir();
  const owner = Child.fork('funnel-owner.mjs', [JSON.stringify({ dir: logDir, options: FULL })], { execArgv: [] });
  try {
    await owner.next('open');
    const remote = await Producer.connect({ logDir, connectTimeoutMs: CONNECT_TIMEOUT_MS });
    assert.is(remote.limits.appendTimeoutMs, APPEND_TIMEOUT_MS, 'the owner announced its appendTimeoutMs');
    const settled = await Promise.allSettled(Array.from({ length: 3000 }, (_, i) => remote.append(`full-${i}-${'p'.repeat(90)}`)));
    const codes = codesOf(settled);
    assert.ok((codes[ErrorCode.LOG_FULL] ?? 0) > 0, `the ring stayed full: some appends refused with ERR_LOG_FULL (${JSON.stringify(codes)})`);
    assert.equal(Object.keys(codes).sort(), ['ERR_LOG_FULL', 'ok'], `only offsets and ERR_LOG_FULL, never ERR_IO (${JSON.stringify(codes)})`);
    const after = await remote.append('after').catch((e: { code?: string }) => e.code);
    assert.ok(typeof after === 'number' || after === ErrorCode.LOG_FULL, `the connection goes on: the next append gets the owner's answer (${String(after)})`);
    remote.destroy();
  } finally {
    await owner.kill();
  }
});

test('clients whose batches wait behind another client\'s wait for ring room get ERR_LOG_FULL, not ERR_IO', async () => {
  const logDir = tempDir();
  const owner = Child.fork('funnel-owner.mjs', [JSON.stringify({ dir: logDir, options: FULL })], { execArgv: [] });
  try {
    await owner.next('open');
    // The owner handles one batch at a time: each client's batch waits for room after the others'.
    const remotes = await Promise.all([0, 1, 2].map(() => Producer.connect({ logDir, connectTimeoutMs: CONNECT_TIMEOUT_MS })));
    const settled = await Promise.all(remotes.map((r, k) => Promise.allSettled(Array.from({ length: 3000 }, (_, i) => r.append(`c${k}-${i}-${'p'.repeat(90)}`)))));
    const codes = settled.map(codesOf);
    for (const r of remotes) r.destroy();
    assert.ok(codes.some((c) => (c[ErrorCode.LOG_FULL] ?? 0) > 0), `the ring stayed full (${JSON.stringify(codes)})`);
    for (const c of codes) assert.ok(Object.keys(c).every((k) => k === 'ok' || k === ErrorCode.LOG_FULL), `only offsets and ERR_LOG_FULL, never ERR_IO (${JSON.stringify(codes)})`);
  } finally {
    await owner.kill();
  }
});

test.run();
