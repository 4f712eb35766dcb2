/**
 * Bad input, options: everything given to Producer.open and Consumer.open (every option, logDir values,
 * consumer ids, transactional consumer options, a whence at or past the log's ends), and the SyncPolicy
 * and Whence factories. Every rejection is a LogError with a stable code, its message names what was
 * wrong, and the log directory (cursors/ included) is left exactly as it was. Arguments of calls on an
 * open handle are in bad-input-args.test.ts; calls on closed or busy handles and locks in
 * bad-input-calls.test.ts.
 */
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, LogError, verifyLog } from '../dist/index.js';
import { suite, tempDir, digestDir, logOf, readRecords, rejectsWith, throwsWith } from './kit.js';
import { GiB, KiB, MiB, details, existingLog, namesOption, verifiesClean } from './bad-input-kit.js';

const test = suite('bad-input-options');

// ---------------------------------------------------------------------------------------------------
// Producer options
// ---------------------------------------------------------------------------------------------------

/** [what, options besides logDir, the option the error must name]. */
const BAD_PRODUCER_OPTIONS: Array<[string, Record<string, unknown>, string]> = [
  ['syncPolicy null', { syncPolicy: null }, 'syncPolicy'],
  ['syncPolicy a string', { syncPolicy: 'always' }, 'syncPolicy'],
  ['syncPolicy a number', { syncPolicy: 1000 }, 'syncPolicy'],
  ['syncPolicy without kind', { syncPolicy: {} }, 'syncPolicy'],
  ['syncPolicy unknown kind', { syncPolicy: { kind: 'sometimes' } }, 'syncPolicy'],
  ['syncPolicy kind in other case', { syncPolicy: { kind: 'Always' } }, 'syncPolicy'],
  ['periodic(0)', { syncPolicy: { kind: 'periodic', intervalMs: 0 } }, 'syncPolicy'],
  ['periodic(-1)', { syncPolicy: { kind: 'periodic', intervalMs: -1 } }, 'syncPolicy'],
  ['periodic(1.5)', { syncPolicy: { kind: 'periodic', intervalMs: 1.5 } }, 'syncPolicy'],
  ['periodic(NaN)', { syncPolicy: { kind: 'periodic', intervalMs: NaN } }, 'syncPolicy'],
  ['periodic(Infinity)', { syncPolicy: { kind: 'periodic', intervalMs: Infinity } }, 'syncPolicy'],
  ['periodic("100")', { syncPolicy: { kind: 'periodic', intervalMs: '100' } }, 'syncPolicy'],
  ['periodic() without ms', { syncPolicy: { kind: 'periodic' } }, 'syncPolicy'],
  ['periodic over a day', { syncPolicy: { kind: 'periodic', intervalMs: 86_400_001 } }, 'syncPolicy'],
  ['everyBytes(0)', { syncPolicy: { kind: 'everyBytes', bytes: 0 } }, 'syncPolicy'],
  ['everyBytes(-4096)', { syncPolicy: { kind: 'everyBytes', bytes: -4096 } }, 'syncPolicy'],
  ['everyBytes(2.5)', { syncPolicy: { kind: 'everyBytes', bytes: 2.5 } }, 'syncPolicy'],
  ['everyBytes(Infinity)', { syncPolicy: { kind: 'everyBytes', bytes: Infinity } }, 'syncPolicy'],
  ['everyBytes() without n', { syncPolicy: { kind: 'everyBytes' } }, 'syncPolicy'],
  ['fileRollSize 1023', { fileRollSize: 1023 }, 'fileRollSize'],
  ['fileRollSize 0', { fileRollSize: 0 }, 'fileRollSize'],
  ['fileRollSize -1', { fileRollSize: -1 }, 'fileRollSize'],
  ['fileRollSize 4096.5', { fileRollSize: 4096.5 }, 'fileRollSize'],
  ['fileRollSize NaN', { fileRollSize: NaN }, 'fileRollSize'],
  ['fileRollSize a string', { fileRollSize: '4096' }, 'fileRollSize'],
  ['fileRollSize null', { fileRollSize: null }, 'fileRollSize'],
  ['fileRollSize over 1 TiB', { fileRollSize: 1024 * GiB + 1 }, 'fileRollSize'],
  ['blockingMinimumRetention -1', { blockingMinimumRetention: -1 }, 'blockingMinimumRetention'],
  ['blockingMinimumRetention 1.5', { blockingMinimumRetention: 1.5 }, 'blockingMinimumRetention'],
  ['blockingMinimumRetention a string', { blockingMinimumRetention: '1000' }, 'blockingMinimumRetention'],
  ['maxTotalBytes 1023', { maxTotalBytes: 1023 }, 'maxTotalBytes'],
  ['maxTotalBytes -1', { maxTotalBytes: -1 }, 'maxTotalBytes'],
  ['maxTotalBytes 1.5 MiB + 0.5', { maxTotalBytes: 1.5 * MiB + 0.5 }, 'maxTotalBytes'],
  ['maxTotalBytes a string', { maxTotalBytes: '1GB' }, 'maxTotalBytes'],
  ['maxTotalBytes < fileRollSize', { fileRollSize: 8192, maxTotalBytes: 4096 }, 'maxTotalBytes'],
  ['maxTotalBytes < default fileRollSize', { maxTotalBytes: MiB }, 'maxTotalBytes'],
  ['fileRollSize > default maxTotalBytes', { fileRollSize: GiB }, 'fileRollSize'],
  ['maxFileAge 0', { maxFileAge: 0 }, 'maxFileAge'],
  ['maxFileAge -5', { maxFileAge: -5 }, 'maxFileAge'],
  ['maxFileAge 0.5', { maxFileAge: 0.5 }, 'maxFileAge'],
  ['maxFileAge a string', { maxFileAge: '1h' }, 'maxFileAge'],
  ['maxRecordBytes -1', { maxRecordBytes: -1 }, 'maxRecordBytes'],
  ['maxRecordBytes 1.5', { maxRecordBytes: 1.5 }, 'maxRecordBytes'],
  ['maxRecordBytes a string', { maxRecordBytes: '1000' }, 'maxRecordBytes'],
  ['maxRecordBytes over the ring less 16', { ringBytes: 64 * KiB, maxRecordBytes: 64 * KiB - 15 }, 'maxRecordBytes'],
  ['maxRecordBytes over the default ring', { maxRecordBytes: 32 * MiB }, 'maxRecordBytes'],
  ['ringBytes not a power of two', { ringBytes: 100_000 }, 'ringBytes'],
  ['ringBytes 3 x 64 KiB', { ringBytes: 3 * 64 * KiB }, 'ringBytes'],
  ['ringBytes too small (32 KiB)', { ringBytes: 32 * KiB }, 'ringBytes'],
  ['ringBytes 0', { ringBytes: 0 }, 'ringBytes'],
  ['ringBytes 2 GiB', { ringBytes: 2 * GiB }, 'ringBytes'],
  ['ringBytes 65536.5', { ringBytes: 65536.5 }, 'ringBytes'],
  ['appendTimeoutMs -1', { appendTimeoutMs: -1 }, 'appendTimeoutMs'],
  ['appendTimeoutMs 1.5', { appendTimeoutMs: 1.5 }, 'appendTimeoutMs'],
  ['appendTimeoutMs over an hour', { appendTimeoutMs: 3_600_001 }, 'appendTimeoutMs'],
  ['appendTimeoutMs null', { appendTimeoutMs: null }, 'appendTimeoutMs'],
  ['maxBatchBytes 1023', { maxBatchBytes: 1023 }, 'maxBatchBytes'],
  ['maxBatchBytes 0', { maxBatchBytes: 0 }, 'maxBatchBytes'],
  ['maxBatchBytes over 64 MiB', { maxBatchBytes: 64 * MiB + 1 }, 'maxBatchBytes'],
  ['maxBatchBytes 2048.5', { maxBatchBytes: 2048.5 }, 'maxBatchBytes'],
  ['indexIntervalBytes 511', { indexIntervalBytes: 511 }, 'indexIntervalBytes'],
  ['indexIntervalBytes 0', { indexIntervalBytes: 0 }, 'indexIntervalBytes'],
  ['indexIntervalBytes 4096.5', { indexIntervalBytes: 4096.5 }, 'indexIntervalBytes'],
  ['indexIntervalBytes over 1 GiB', { indexIntervalBytes: GiB + 1 }, 'indexIntervalBytes'],
  ['dedupWindow a number', { dedupWindow: 1000 }, 'dedupWindow'],
  ['dedupWindow an array', { dedupWindow: [1000] }, 'dedupWindow'],
  ['dedupWindow empty', { dedupWindow: {} }, 'dedupWindow'],
  ['dedupWindow records and ms', { dedupWindow: { records: 10, ms: 10 } }, 'dedupWindow'],
  ['dedupWindow unknown field', { dedupWindow: { count: 10 } }, 'dedupWindow'],
  ['dedupWindow records 0', { dedupWindow: { records: 0 } }, 'dedupWindow'],
  ['dedupWindow records 1.5', { dedupWindow: { records: 1.5 } }, 'dedupWindow'],
  ['dedupWindow records too many', { dedupWindow: { records: 10_000_001 } }, 'dedupWindow'],
  ['dedupWindow ms a string', { dedupWindow: { ms: '60s' } }, 'dedupWindow'],
  ['dedupWindow ms over 7 days', { dedupWindow: { ms: 7 * 24 * 3_600_000 + 1 } }, 'dedupWindow'],
  ['acceptConnections a string', { acceptConnections: 'yes' }, 'acceptConnections'],
  ['acceptConnections a number', { acceptConnections: 1 }, 'acceptConnections'],
  ['acceptConnections null', { acceptConnections: null }, 'acceptConnections'],
  ['unknown option (case)', { logdir: '/tmp/x' }, 'logdir'],
  ['unknown option (typo)', { fileRolSize: 4096 }, 'fileRolSize'],
  ['unknown option (consumer option)', { style: 'nonTx' }, 'style'],
];

test('every bad producer option on a new directory: ERR_INVALID_OPTION naming it, nothing created', async () => {
  const parent = tempDir();
  for (const [what, bad, option] of BAD_PRODUCER_OPTIONS) {
    const logDir = join(parent, 'log');
    const err = await rejectsWith(() => Producer.open({ logDir, ...bad } as never), 'ERR_INVALID_OPTION');
    namesOption(err, option, what);
    assert.not.ok(existsSync(logDir), `${what}: the log directory was not created`);
  }
});

test('every bad producer option on an existing log: ERR_INVALID_OPTION, the directory byte-identical', async () => {
  const logDir = await existingLog();
  const before = digestDir(logDir);
  for (const [what, bad, option] of BAD_PRODUCER_OPTIONS) {
    const err = await rejectsWith(() => Producer.open({ logDir, ...bad } as never), 'ERR_INVALID_OPTION');
    namesOption(err, option, what);
    assert.is(digestDir(logDir), before, `${what}: the log is untouched`);
  }
  // The log still opens and holds its records.
  const records = await readRecords(logDir);
  assert.is(records.length, 40);
  assert.is(records[39]!.text, `existing-39-${'e'.repeat(39)}`);
});

test('bad logDir values and non-object options name the option', async () => {
  const cases: Array<[string, unknown, string]> = [
    ['no options', undefined, 'options'],
    ['null options', null, 'options'],
    ['a string as options', '/tmp/somewhere', 'options'],
    ['a number as options', 42, 'options'],
    ['logDir missing', {}, 'logDir'],
    ['logDir undefined', { logDir: undefined }, 'logDir'],
    ['logDir empty', { logDir: '' }, 'logDir'],
    ['logDir a number', { logDir: 42 }, 'logDir'],
    ['logDir a URL object', { logDir: new URL('file:///tmp/x') }, 'logDir'],
    ['logDir with NUL', { logDir: `${tempDir()}/a\0b` }, 'logDir'],
  ];
  for (const [what, options, option] of cases) {
    const err = await rejectsWith(() => Producer.open(options as never), 'ERR_INVALID_OPTION');
    namesOption(err, option, what);
  }
});

test('Producer.open on a path that is a file, or runs through one: ERR_INVALID_OPTION naming logDir, the file untouched', async () => {
  const parent = tempDir();
  const file = join(parent, 'plain');
  writeFileSync(file, 'not a log');
  for (const logDir of [file, join(file, 'x'), join(file, 'x', 'y')]) {
    const err = await rejectsWith(() => Producer.open({ logDir }), 'ERR_INVALID_OPTION');
    assert.is(details(err).option, 'logDir', err.message);
  }
  assert.is(readFileSync(file, 'utf8'), 'not a log');
  await rejectsWith(() => Consumer.open({ logDir: file, style: ConsumerStyle.globalTx() }), 'ERR_INVALID_OPTION');
  await rejectsWith(() => verifyLog(file), 'ERR_INVALID_OPTION');
});

test('Producer.open on a directory that holds no log (not empty): ERR_INVALID_OPTION naming logDir, the directory byte-identical; an empty, a missing or a log directory with foreign files opens', async () => {
  const home = tempDir();
  writeFileSync(join(home, 'notes.txt'), 'my own notes');
  mkdirSync(join(home, 'photos'));
  writeFileSync(join(home, '123.seg'), 'not a segment name'); // named like one, but not <20 digits>.seg
  const before = digestDir(home);
  for (const extra of [{}, { acceptConnections: true }]) {
    const err = await rejectsWith(() => Producer.open({ logDir: home, ...extra }), 'ERR_INVALID_OPTION');
    namesOption(err, 'logDir', JSON.stringify(extra));
    assert.match(err.message, 'not a log directory');
    assert.ok(err.message.includes(home), err.message);
    assert.is(digestDir(home), before, 'nothing written: no segment, no durable.offset, no producer.lock');
  }

  // An empty directory starts a log; a missing one is created; a log with foreign files beside its
  // own opens (its own entries make it a log).
  const empty = tempDir();
  const missing = join(tempDir(), 'new', 'log');
  for (const logDir of [empty, missing]) {
    const p = await Producer.open({ logDir });
    p.append('r0');
    await p.close();
    assert.equal((await readRecords(logDir)).map((r) => r.text), ['r0'], logDir);
  }
  writeFileSync(join(empty, 'notes.txt'), 'an operator left this here');
  const p = await Producer.open({ logDir: empty });
  assert.is(p.append('r1'), 1);
  await p.close();
  assert.equal((await readRecords(empty)).map((r) => r.text), ['r0', 'r1']);
});

test('Producer.open where mkdir answers ENOENT under a parent that exists (/proc): ERR_IO at once (a recursive mkdir there never returns)', async () => {
  if (!existsSync('/proc/self')) return; // no /proc here
  for (const logDir of [`/proc/rlog-${process.pid}`, `/proc/rlog-${process.pid}/a/b`]) {
    const err = await rejectsWith(() => Producer.open({ logDir }), 'ERR_IO');
    assert.match(err.message, /ENOENT/);
  }
});

test('SyncPolicy factories reject bad values at once, naming syncPolicy', () => {
  const bad: Array<[string, () => unknown]> = [
    ['periodic(0)', () => SyncPolicy.periodic(0)],
    ['periodic(-1)', () => SyncPolicy.periodic(-1)],
    ['periodic(2.5)', () => SyncPolicy.periodic(2.5)],
    ['periodic(NaN)', () => SyncPolicy.periodic(NaN)],
    ['periodic("5")', () => SyncPolicy.periodic('5' as never)],
    ['periodic(86_400_001)', () => SyncPolicy.periodic(86_400_001)],
    ['everyBytes(0)', () => SyncPolicy.everyBytes(0)],
    ['everyBytes(-1)', () => SyncPolicy.everyBytes(-1)],
    ['everyBytes(1.5)', () => SyncPolicy.everyBytes(1.5)],
    ['everyBytes(Infinity)', () => SyncPolicy.everyBytes(Infinity)],
  ];
  for (const [what, fn] of bad) namesOption(throwsWith(fn, 'ERR_INVALID_OPTION'), 'syncPolicy', what);
  // The good edges are accepted.
  assert.equal(SyncPolicy.periodic(1), { kind: 'periodic', intervalMs: 1 });
  assert.equal(SyncPolicy.periodic(86_400_000), { kind: 'periodic', intervalMs: 86_400_000 });
  assert.equal(SyncPolicy.everyBytes(1), { kind: 'everyBytes', bytes: 1 });
});

test('the edges of each range are accepted', async () => {
  const logDir = tempDir();
  const p = await Producer.open({
    logDir, syncPolicy: SyncPolicy.everyBytes(1), fileRollSize: 1024, maxTotalBytes: 1024,
    maxFileAge: 1, ringBytes: 64 * KiB, maxRecordBytes: 64 * KiB - 16, appendTimeoutMs: 0, maxBatchBytes: 1024, indexIntervalBytes: 512,
  });
  assert.is(p.append(Buffer.alloc(64 * KiB - 16, 7)), 0);
  await p.flush();
  await p.close();
  const q = await Producer.open({ logDir, maxTotalBytes: null, maxFileAge: null, blockingMinimumRetention: 0 });
  assert.is(q.nextOffset, 1);
  q.append('x');
  await q.flush();
  await q.close();
  const r = await Producer.open({ logDir, maxTotalBytes: null, maxFileAge: null, blockingMinimumRetention: null, syncPolicy: SyncPolicy.periodic(86_400_000) });
  assert.is(r.nextOffset, 2);
  await r.close();
});

test('a record larger than maxTotalBytes under blockingMinimumRetention: flush settles (bounded), never hangs', async () => {
  // Backpressure is bounded by the design: the producer blocks, "bounded, then ERR_LOG_FULL". A record
  // whose frame alone exceeds maxTotalBytes can never fit; acceptable answers are refusing it up front
  // (ERR_INVALID_OPTION / ERR_RECORD_TOO_LARGE / ERR_LOG_FULL) or writing it, but flush() must settle.
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024, maxTotalBytes: 4096, blockingMinimumRetention: 0, appendTimeoutMs: 1000 });
  try {
    let refused: string | null = null;
    try {
      p.append(Buffer.alloc(8000, 1));
    } catch (e) {
      refused = (e as LogError).code;
    }
    if (refused !== null) {
      assert.ok(['ERR_RECORD_TOO_LARGE', 'ERR_LOG_FULL', 'ERR_INVALID_OPTION'].includes(refused), refused);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      p.flush().then(() => 'flushed', (e: LogError) => e.code),
      new Promise<string>((resolve) => { timer = setTimeout(() => resolve('still pending'), 5_000); }),
    ]);
    clearTimeout(timer);
    assert.ok(outcome === 'flushed' || outcome === 'ERR_LOG_FULL',
      `flush() of a record larger than maxTotalBytes: ${outcome} (written ${p.writtenOffset}, durable ${p.durableOffset})`);
  } finally {
    await p.close().catch(() => undefined);
  }
});

// ---------------------------------------------------------------------------------------------------
// Consumer options and Whence
// ---------------------------------------------------------------------------------------------------

test('Whence.position rejects bad offsets at once, naming whence; -0 is offset 0', () => {
  for (const v of [-1, 1.5, 0.5, NaN, Infinity, -Infinity, 2 ** 53, '3', '5', 5n, {}, [], null, undefined]) {
    namesOption(throwsWith(() => Whence.position(v as never), 'ERR_INVALID_OPTION'), 'whence', `Whence.position(${String(v)})`);
  }
  assert.equal(Whence.position(0), { kind: 'position', offset: 0 });
  assert.equal(Whence.position(-0), { kind: 'position', offset: -0 }, '-0 is offset 0');
});

test('every bad consumer option: ERR_INVALID_OPTION naming it, the log byte-identical', async () => {
  const logDir = await existingLog(); // 40 records, offsets 0..39
  const before = digestDir(logDir);
  const nonTx = (whence: unknown) => ConsumerStyle.nonTx(whence as never);
  const cases: Array<[string, unknown, string | string[]]> = [
    ['null options', null, 'options'],
    ['a string as options', logDir, 'options'],
    ['a number as options', 7, 'options'],
    ['no options', undefined, 'options'],
    ['logDir missing', { style: nonTx(Whence.oldest()) }, 'logDir'],
    ['logDir empty', { logDir: '', style: nonTx(Whence.oldest()) }, 'logDir'],
    ['logDir a number', { logDir: 3, style: nonTx(Whence.oldest()) }, 'logDir'],
    ['logDir a file', { logDir: join(logDir, '00000000000000000000.seg'), style: nonTx(Whence.oldest()) }, 'logDir'],
    ['style missing', { logDir }, 'style'],
    ['style null', { logDir, style: null }, 'style'],
    ['style a string', { logDir, style: 'nonTx' }, 'style'],
    ['style unknown kind', { logDir, style: { kind: 'bogus', whence: Whence.oldest() } }, 'style'],
    ['nonTx without whence', { logDir, style: nonTx(undefined) }, ['style', 'whence']],
    ['whence null', { logDir, style: nonTx(null) }, ['style', 'whence']],
    ['whence unknown kind', { logDir, style: nonTx({ kind: 'newest' }) }, 'whence'],
    ['whence position(-1)', { logDir, style: nonTx({ kind: 'position', offset: -1 }) }, 'whence'],
    ['whence position(1.5)', { logDir, style: nonTx({ kind: 'position', offset: 1.5 }) }, 'whence'],
    ['whence position(NaN)', { logDir, style: nonTx({ kind: 'position', offset: NaN }) }, 'whence'],
    ['whence position("3")', { logDir, style: nonTx({ kind: 'position', offset: '3' }) }, 'whence'],
    ['whence position past the end (41)', { logDir, style: nonTx(Whence.position(41)) }, 'whence'],
    ['whence position far past the end', { logDir, style: nonTx(Whence.position(1_000_000)) }, 'whence'],
    ['visibility unknown', { logDir, style: nonTx(Whence.oldest()), visibility: 'fsynced' }, 'visibility'],
    ['visibility a boolean', { logDir, style: nonTx(Whence.oldest()), visibility: true }, 'visibility'],
    ['pollIntervalMs 0', { logDir, style: nonTx(Whence.oldest()), pollIntervalMs: 0 }, 'pollIntervalMs'],
    ['pollIntervalMs -1', { logDir, style: nonTx(Whence.oldest()), pollIntervalMs: -1 }, 'pollIntervalMs'],
    ['pollIntervalMs 2.5', { logDir, style: nonTx(Whence.oldest()), pollIntervalMs: 2.5 }, 'pollIntervalMs'],
    ['pollIntervalMs a string', { logDir, style: nonTx(Whence.oldest()), pollIntervalMs: '50' }, 'pollIntervalMs'],
    ['pollIntervalMs over a minute', { logDir, style: nonTx(Whence.oldest()), pollIntervalMs: 60_001 }, 'pollIntervalMs'],
    ['unknown key (whence at top level)', { logDir, style: nonTx(Whence.oldest()), whence: Whence.oldest() }, 'whence'],
    ['unknown key (producer option)', { logDir, style: nonTx(Whence.oldest()), fileRollSize: 4096 }, 'fileRollSize'],
    ['unknown key (typo)', { logDir, style: nonTx(Whence.oldest()), pollIntervalMS: 10 }, 'pollIntervalMS'],
  ];
  for (const [what, options, option] of cases) {
    const err = await rejectsWith(() => Consumer.open(options as never), 'ERR_INVALID_OPTION');
    const named = details(err).option ?? '';
    const want = Array.isArray(option) ? option : [option];
    assert.ok(want.includes(named), `${what}: details.option ${named}, expected ${want.join(' or ')} (${err.message})`);
    namesOption(err, named, what);
    assert.is(digestDir(logDir), before, `${what}: the log is untouched`);
  }
  // The end itself is a valid position: nothing to read yet.
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(40)) });
  assert.equal([...c.iter()], []);
  await c.close();
  assert.is(digestDir(logDir), before);
});

test('bad options of a transactional consumer: ERR_INVALID_OPTION before any cursor file or folder is made', async () => {
  const logDir = await logOf(2);
  const before = digestDir(logDir);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ retry: 5 }, 'retry'], [{ retry: 'fixed' }, 'retry'], [{ retry: { maxAttempts: 0 } }, 'retry.maxAttempts'],
    [{ retry: { maxAttempts: 1.5 } }, 'retry.maxAttempts'], [{ retry: { delayMs: -1 } }, 'retry.delayMs'],
    [{ retry: { backoff: 'linear' } }, 'retry.backoff'], [{ retry: { maxDelayMs: NaN } }, 'retry.maxDelayMs'],
    [{ retry: { retryOnThrow: 'yes' } }, 'retry.retryOnThrow'], [{ retry: { deadLetterDir: '' } }, 'retry.deadLetterDir'],
    [{ retry: { deadLetterDir: 'a\0b' } }, 'retry.deadLetterDir'], [{ retry: { deadLetterDir: 7 } }, 'retry.deadLetterDir'],
    [{ retry: { tries: 3 } }, 'retry.tries'], [{ commit: 1 }, 'commit'], [{ commit: { everyRecords: 0 } }, 'commit.everyRecords'],
    [{ commit: { everyMs: 0 } }, 'commit.everyMs'], [{ commit: { everyMs: '5' } }, 'commit.everyMs'], [{ commit: { every: 1 } }, 'commit.every'],
    [{ visibility: 'written' }, 'visibility'], [{ pollIntervalMs: 0 }, 'pollIntervalMs'],
  ];
  for (const style of [ConsumerStyle.globalTx(), ConsumerStyle.clientTx('ok-id')]) {
    for (const [extra, name] of cases) {
      const err = await rejectsWith(() => Consumer.open({ logDir, style, ...extra } as never), 'ERR_INVALID_OPTION');
      assert.is(details(err).option, name, `${JSON.stringify(extra)}: ${err.message}`);
    }
  }
  assert.is(digestDir(logDir), before);
  assert.not.ok(existsSync(join(logDir, 'cursors')));
});

test('consumer ids: empty, huge, path-like, control and odd unicode characters, non-strings: ERR_INVALID_CONSUMER_ID, nothing written', async () => {
  const logDir = await logOf(3);
  const before = digestDir(logDir);
  const bad: unknown[] = [
    '', 'a'.repeat(129), 'x'.repeat(100_000), '.', '..', '../x', '../../etc/passwd', '/', '/abs', 'a/b', '\\', 'a\\b', 'C:\\x',
    '.hidden', 'nul\u0000', '\u0000', 'tab\there', 'line\nbreak', 'cr\r', 'bell\u0007', 'del\u007f', 'esc\u001b[31m',
    'émoji', '😀', 'fullwidth\uff0fslash', 'rtl\u202eexe', 'zero\u200bwidth', 'nbsp\u00a0', 'sp ace', 'colon:x', 'star*', 'q?', 'pipe|',
    42, 0, null, undefined, {}, ['a'], true, Symbol('id'), new String('abc'),
  ];
  for (const id of bad) {
    for (const open of [() => Consumer.open({ logDir, style: ConsumerStyle.clientTx(id as never) })]) {
      const err = await rejectsWith(open, 'ERR_INVALID_CONSUMER_ID');
      assert.ok(err instanceof LogError, `${String(typeof id === 'symbol' ? 'symbol' : id)}`);
    }
  }
  // Also when the style object is built by hand, bypassing the factory.
  await rejectsWith(() => Consumer.open({ logDir, style: { kind: 'clientTx', consumerId: '../x' } as never }), 'ERR_INVALID_CONSUMER_ID');
  assert.is(digestDir(logDir), before, 'nothing written');
  assert.not.ok(existsSync(join(logDir, 'cursors')), 'no cursors folder');
  // The edges that are allowed: 128 characters, every allowed character, a dot inside.
  for (const id of ['a'.repeat(128), 'Az09._-', 'a..b', 'x.']) {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) });
    assert.is([...c.iter()].length, 3, id);
    await c.close();
    assert.ok(existsSync(join(logDir, 'cursors', `client.${id}.cursor`)), `${id}: its cursor file is inside cursors/`);
  }
  await verifiesClean(logDir);
});

test('Consumer.open on a directory that holds no log (not empty) or does not exist: ERR_INVALID_OPTION naming logDir, the directory byte-identical, nothing created', async () => {
  const home = tempDir();
  writeFileSync(join(home, 'notes.txt'), 'my own notes');
  mkdirSync(join(home, 'photos'));
  writeFileSync(join(home, 'photos', 'a.jpg'), 'jpeg');
  writeFileSync(join(home, '123.seg'), 'not a segment name'); // named like one, but not <20 digits>.seg
  const before = digestDir(home);
  const styles = [
    ['clientTx', ConsumerStyle.clientTx('billing')], ['globalTx', ConsumerStyle.globalTx()],
    ['nonTx oldest', ConsumerStyle.nonTx(Whence.oldest())], ['nonTx position 0', ConsumerStyle.nonTx(Whence.position(0))],
  ] as const;
  for (const [what, style] of styles) {
    const err = await rejectsWith(() => Consumer.open({ logDir: home, style }), 'ERR_INVALID_OPTION');
    assert.is(details(err).option, 'logDir', `${what}: ${err.message}`);
    assert.match(err.message, 'not a log directory', what);
    assert.is(digestDir(home), before, `${what}: nothing written`);
    assert.not.ok(existsSync(join(home, 'cursors')), `${what}: no cursors folder`);
  }

  // A path where nothing is: refused the same way, and not created.
  const missing = join(tempDir(), 'no', 'such', 'log');
  for (const [what, style] of styles) {
    const err = await rejectsWith(() => Consumer.open({ logDir: missing, style }), 'ERR_INVALID_OPTION');
    namesOption(err, 'logDir', `${what}, a missing directory`);
    assert.ok(err.message.includes(missing), `${what}: the message names the path (${err.message})`);
  }
  assert.not.ok(existsSync(missing));
  assert.is(digestDir(join(missing, '..', '..')), 'absent', 'nothing created');

  // An empty directory is a log nobody has written yet: a transactional consumer creates its cursor
  // there, and from then on the directory holds a log's entry (cursors/) and opens again.
  const empty = tempDir();
  const c = await Consumer.open({ logDir: empty, style: ConsumerStyle.clientTx('early') });
  await c.close();
  assert.ok(existsSync(join(empty, 'cursors', 'client.early.cursor')));
  const again = await Consumer.open({ logDir: empty, style: ConsumerStyle.nonTx(Whence.oldest()) });
  assert.equal([...again.iter()], []);
  await again.close();

  // A log with foreign files beside its own still opens: its own entries make it a log.
  const logDir = await logOf(2);
  writeFileSync(join(logDir, 'notes.txt'), 'an operator left this here');
  const d = await Consumer.open({ logDir, style: ConsumerStyle.globalTx() });
  assert.is((await d.nonblockingProcess(null, () => 'commit')).committed, 2);
  await d.close();
});

test('offsets in a whence built by hand: bigint, strings, fractions, NaN, negative and past the end are ERR_INVALID_OPTION; below the start ERR_POSITION_EXPIRED', async () => {
  const records = Array.from({ length: 60 }, (_, i) => `rec-${i}-${'r'.repeat(100)}`);
  const logDir = await logOf(records, { fileRollSize: 1024, maxTotalBytes: 2048, flushAfter: (i) => i % 5 === 4 });
  const start = Number((await verifyLog(logDir)).logStartOffset);
  assert.ok(start > 0, 'retention moved the start');
  const before = digestDir(logDir);
  for (const offset of [5n, 2.5, NaN, -1, 61, 1e15, '7']) {
    const err = await rejectsWith(() => Consumer.open({ logDir, style: { kind: 'nonTx', whence: { kind: 'position', offset } } as never }), 'ERR_INVALID_OPTION');
    assert.is(details(err).option, 'whence', String(offset));
  }
  for (const offset of [0, start - 1]) {
    const err = await rejectsWith(() => Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(offset)) }), 'ERR_POSITION_EXPIRED');
    assert.is(details(err).logStartOffset, start);
  }
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(start)) });
  assert.is(c.iter().next().value?.offset, start);
  await c.close();
  assert.is(digestDir(logDir), before);
});

test('whence past the end while the producer runs in this process', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  try {
    for (let i = 0; i < 10; i++) p.append(`r${i}`);
    // The end is the producer's next offset, written or not.
    namesOption(await rejectsWith(() => Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(11)) }), 'ERR_INVALID_OPTION'), 'whence', 'position(11) of 10');
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(10)) });
    p.append('r10');
    await p.flush();
    assert.equal([...c.iter()].map((m) => m.offset), [10]);
    await c.close();
  } finally {
    await p.close();
  }
});

test.run();
