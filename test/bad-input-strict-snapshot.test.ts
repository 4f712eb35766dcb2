/**
 * Bad input against a strict snapshot: fast-check calls the entry points that take a log directory
 * (Producer.open, Consumer.open in each style, inspectLog, verifyLog, repairLog, unlockLog,
 * resetCursor, deleteCursor) on a real log (a few segments, two cursors, durable.offset) with one
 * bad value drawn for one argument or option. Each must fail with a LogError carrying a bad-input code,
 * and the log directory must be as it was to the last bit the system shows: names, sizes, modes,
 * contents and the mtimes and ctimes of every file and directory (a lock file made and removed again,
 * or a file rewritten with the same bytes, counts as a change). The seed is printed; SEED replays it.
 */
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Producer, Consumer, ConsumerStyle, Whence, LogError, inspectLog, verifyLog, repairLog, unlockLog, resetCursor, deleteCursor,
} from '../dist/index.js';
import { suite, tempDir, logOf } from './kit.js';
import { announceSeed, checkProperty } from './fc-run.js';

const test = suite('bad-input-strict-snapshot');
const FILE = 'test/bad-input-strict-snapshot.test.ts';
const BAD_CODES = new Set(['ERR_INVALID_OPTION', 'ERR_INVALID_CONSUMER_ID']);

/** Every entry under `dir`: kind, mode, size, mtime, ctime, and a file's content hash. */
function strictSnapshot(dir: string): string {
  const out: string[] = [];
  const walk = (at: string, rel: string): void => {
    const st = lstatSync(at);
    out.push(`${rel} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${st.ctimeMs}${st.isFile() ? ` ${createHash('sha256').update(readFileSync(at)).digest('hex')}` : ''}`);
    if (st.isDirectory()) for (const n of readdirSync(at).sort()) walk(join(at, n), `${rel}/${n}`);
  };
  walk(dir, '.');
  return out.join('\n');
}

const badValue = fc.constantFrom<unknown>(
  NaN, Infinity, -Infinity, -1, 1.5, 2 ** 53, 1e300, 10n, '', 'a\0b', 'x'.repeat(5000), true, null, [1], {}, { bogus: 1 }, () => 1, Symbol('s'),
);
const badId = fc.constantFrom<unknown>('', '..', '.', 'a/b', '../c1', 'a\0b', '/abs', 'x'.repeat(300), 5, null, {}, 'a b', 'c1\n');

type Call = (log: string, bad: unknown, root: string) => Promise<unknown>;
const nonTx = (): ConsumerStyle => ConsumerStyle.nonTx(Whence.oldest());
/** Values that are good for a field (skipped): true for a flag, null where null means "none", an empty bag. */
const GOOD: Record<string, (v: unknown) => boolean> = {
  'repairLog dryRun': (v) => v === true, 'unlockLog dryRun': (v) => v === true,
  'Producer.open maxTotalBytes': (v) => v === null, 'Producer.open dedupWindow': (v) => v === null,
  'Consumer.open globalTx onPositionExpired': (v) => v === null, 'verifyLog onProgress': (v) => typeof v === 'function',
  'Consumer.open clientTx new retry': (v) => v === null,
  'Producer.open logDir': (v) => typeof v === 'string' && v.endsWith('/missing'), // a new log beside the other
  'resetCursor to timestamp': (v) => typeof v === 'number' && Number.isFinite(v),
};
const CALLS: Array<[string, Call, 'value' | 'id' | 'path']> = [
  ['Producer.open fileRollSize', (log, b) => Producer.open({ logDir: log, fileRollSize: b } as never), 'value'],
  ['Producer.open maxTotalBytes', (log, b) => Producer.open({ logDir: log, maxTotalBytes: b } as never), 'value'],
  ['Producer.open dedupWindow', (log, b) => Producer.open({ logDir: log, dedupWindow: b } as never), 'value'],
  ['Producer.open unknown key', (log, b) => Producer.open({ logDir: log, fileRolSize: b } as never), 'value'],
  ['Producer.open logDir', (_log, b) => Producer.open({ logDir: b } as never), 'path'],
  ['Consumer.open clientTx id', (log, b) => Consumer.open({ logDir: log, style: ConsumerStyle.clientTx(b as never) }), 'id'],
  ['Consumer.open clientTx pollIntervalMs', (log, b) => Consumer.open({ logDir: log, style: ConsumerStyle.clientTx('c1'), pollIntervalMs: b } as never), 'value'],
  ['Consumer.open clientTx new retry', (log, b) => Consumer.open({ logDir: log, style: ConsumerStyle.clientTx('fresh'), retry: { maxAttempts: b } } as never), 'value'],
  ['Consumer.open globalTx commit', (log, b) => Consumer.open({ logDir: log, style: ConsumerStyle.globalTx(), commit: { everyRecords: b } } as never), 'value'],
  ['Consumer.open globalTx onPositionExpired', (log, b) => Consumer.open({ logDir: log, style: ConsumerStyle.globalTx(), onPositionExpired: b } as never), 'value'],
  ['Consumer.open nonTx lagThreshold', (log, b) => Consumer.open({ logDir: log, style: nonTx(), lagThreshold: { records: b } } as never), 'value'],
  ['Consumer.open logDir', (_log, b) => Consumer.open({ logDir: b, style: nonTx() } as never), 'path'],
  ['inspectLog dir', (_log, b) => inspectLog(b as never), 'path'],
  ['verifyLog onProgress', (log, b) => verifyLog(log, { onProgress: b } as never), 'value'],
  ['repairLog dryRun', (log, b) => repairLog(log, { dryRun: b } as never), 'value'],
  ['repairLog backupDir', (log, b) => repairLog(log, { backupDir: b } as never), 'value'],
  ['repairLog dir', (_log, b) => repairLog(b as never), 'path'],
  ['unlockLog dryRun', (log, b) => unlockLog(log, { dryRun: b } as never), 'value'],
  ['unlockLog dir', (_log, b) => unlockLog(b as never), 'path'],
  ['resetCursor to', (log, b) => resetCursor(log, 'c1', { to: b } as never), 'value'],
  ['resetCursor to timestamp', (log, b) => resetCursor(log, 'c1', { to: { timestamp: b } } as never), 'value'],
  ['resetCursor state', (log, b) => resetCursor(log, 'c1', { to: 'oldest', state: b } as never), 'value'],
  ['resetCursor id', (log, b) => resetCursor(log, b as never, { to: 'oldest' }), 'id'],
  ['resetCursor dir', (_log, b) => resetCursor(b as never, 'c1', { to: 'oldest' }), 'path'],
  ['deleteCursor id', (log, b) => deleteCursor(log, b as never), 'id'],
  ['deleteCursor dir', (_log, b) => deleteCursor(b as never, 'c1'), 'path'],
];

test('one bad argument or option: a coded LogError, the directory identical to the mtime, ctime and mode', async () => {
  announceSeed(FILE);
  const root = tempDir('rlog-strict-');
  const log = await logOf(Array.from({ length: 30 }, (_, i) => `r${i}-${'x'.repeat(i * 3)}`), { logDir: join(root, 'log'), fileRollSize: 1024 });
  for (const id of ['c1', 'c2']) {
    const c = await Consumer.open({ logDir: log, style: ConsumerStyle.clientTx(id) });
    await c.nonblockingProcess(3, () => 'commit');
    await c.close();
  }
  const g = await Consumer.open({ logDir: log, style: ConsumerStyle.globalTx() });
  await g.nonblockingProcess(2, () => 'commit');
  await g.close();
  writeFileSync(join(root, 'a-file'), 'not a log');
  const badPath = fc.constantFrom<unknown>(join(root, 'a-file'), join(root, 'a-file', 'sub'), join(log, '00000000000000000000.seg'), join(log, 'cursors'),
    join(log, 'orders'), 'a\0b', '', 5, null, {}, join(root, 'missing'), `${log}\0`);
  const arb = fc.integer({ min: 0, max: CALLS.length - 1 }).chain((i) => {
    const [name, call, kind] = CALLS[i]!;
    const good = GOOD[name] ?? ((): boolean => false);
    return fc.tuple(fc.constant(name), fc.constant(call), (kind === 'id' ? badId : kind === 'path' ? badPath : badValue).filter((v) => !good(v)));
  });
  await checkProperty('one bad input', arb, async ([name, call, bad]) => {
    const before = strictSnapshot(root);
    let outcome: unknown = 'success';
    try {
      const r = await call(log, bad, root);
      if (r !== null && typeof r === 'object' && typeof (r as { close?: unknown }).close === 'function') await (r as { close(): Promise<void> }).close();
    } catch (e) {
      outcome = e;
    }
    const what = `${name} with ${typeof bad === 'symbol' || typeof bad === 'bigint' ? String(bad) : JSON.stringify(bad)?.slice(0, 80)}`;
    assert.ok(outcome instanceof LogError, `${what}: a LogError, got ${outcome === 'success' ? 'success' : String((outcome as Error)?.stack ?? outcome)}`);
    assert.ok(BAD_CODES.has(outcome.code), `${what}: code ${outcome.code}: ${outcome.message}`);
    const after = strictSnapshot(root);
    if (after !== before) {
      const was = new Set(before.split('\n'));
      assert.unreachable(`${what}: the directory changed:\n${after.split('\n').filter((l) => !was.has(l)).join('\n')}`);
    }
  }, { runs: Number(process.env.FC_RUNS ?? 300), caseTimeoutMs: 15_000, file: FILE });
});

test.run();
