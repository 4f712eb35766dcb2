/**
 * Bad input, generated: fast-check walks the public entry points (Producer.open and its handle's calls,
 * Consumer.open with each style and whence and its iterations and processing calls with their options,
 * pool options, the admin calls, Producer.connect and attach, jetstream() without a server) with one bad
 * field at a time, drawn from wrong types, NaN, infinities, fractions, huge numbers, bigints, symbols,
 * Proxies and getters that throw, frozen objects, class instances, arrays, NUL bytes, a file, a path
 * through a file and a symlink loop. Each call must throw or reject with a LogError of a bad-input code
 * (never a TypeError, a raw Node error or success), leave the folder holding the log byte-for-byte
 * as it was (no directory made beside it) and leave a handle it was called on working. A getter's own
 * error may pass through; a path the system cannot walk (a loop, a name too long) is bad input too.
 * The seed is printed; SEED replays it. ALL_CASES=<part of a field name> (empty: every field) runs
 * every bad value on every matching field instead, listing each failure (TRACE=1 names each case first).
 */
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, LogError, inspectLog, verifyLog, repairLog, unlockLog, resetCursor, deleteCursor,
} from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir, digestDir, listing } from './kit.js';
import { announceSeed, checkProperty } from './fc-run.js';

const test = suite('bad-input-generative');
const FILE = 'test/bad-input-generative.test.ts';

/** What a getter or Proxy trap throws: the caller's own error, which may pass through unchanged. */
const OWN = new Error('the caller\'s getter threw');

const BAD: Record<string, () => unknown> = {
  NaN: () => NaN, Infinity: () => Infinity, negInfinity: () => -Infinity, minus1: () => -1, fraction: () => 1.5,
  unsafe: () => 2 ** 53, huge: () => 1e300, negHuge: () => -1e300, bigint: () => 10n, symbol: () => Symbol('bad'),
  string: () => 'abc', empty: () => '', nul: () => 'a\0b', hugeString: () => 'x'.repeat(100_000), true: () => true,
  null: () => null, array: () => [1], emptyArray: () => [], date: () => new Date(0), map: () => new Map(), fn: () => () => 1,
  numberObject: () => new Number(5), nullProto: () => Object.create(null) as object, frozen: () => Object.freeze({}),
  throwingGetter: () => ({ get kind(): never { throw OWN; }, get signal(): never { throw OWN; }, get to(): never { throw OWN; } }),
  throwingProxy: () => new Proxy({}, { get() { throw OWN; }, ownKeys() { throw OWN; }, has() { throw OWN; }, getOwnPropertyDescriptor() { throw OWN; } }),
  zero: () => 0,
};
const LABELS = Object.keys(BAD);
const BAD_CODES = new Set(['ERR_INVALID_OPTION', 'ERR_INVALID_RECORD', 'ERR_INVALID_CONSUMER_ID', 'ERR_RECORD_TOO_LARGE']);

interface Fx {
  root: string; log: string; file: string; loop: string; notALog: string; live: Producer; handler: URL;
}

/** A call with one bad field; `ok` lists the labels that are good values of that field (skipped). */
interface Field { name: string; ok?: readonly string[]; call: (fx: Fx, bad: unknown) => unknown }

const nonTx = (): ConsumerStyle => ConsumerStyle.nonTx(Whence.oldest());
const okInt0 = ['zero'];
const nullable = ['null'];
/** Objects with no own keys: an empty options bag, good wherever an options bag is taken. */
const EMPTY = ['emptyArray', 'date', 'map', 'numberObject', 'nullProto', 'frozen'];
/**
 * retry.deadLetterDir is looked at when the first dead letter is written, not at open: a path that
 * cannot hold a log there (a file, through a file, a loop, too long) is accepted by Consumer.open.
 */
const DEAD_LETTER_DIR_OK = ['string', 'notALog', 'hugeString', 'file', 'throughFile', 'loop'];
/** Strings, good as record data, keys and header values. */
const STRINGS = ['string', 'empty', 'nul'];

function consumerFields(): Field[] {
  const open = (fx: Fx, o: Record<string, unknown>, style: ConsumerStyle = nonTx()): Promise<Consumer> =>
    Consumer.open({ logDir: fx.log, style, ...o } as never);
  const f: Field[] = [
    { name: 'Consumer.open(options)', ok: [], call: (_fx, b) => Consumer.open(b as never) },
    { name: 'Consumer.open logDir', call: (_fx, b) => Consumer.open({ logDir: b, style: nonTx() } as never) },
    { name: 'Consumer.open style', call: (fx, b) => Consumer.open({ logDir: fx.log, style: b } as never) },
    { name: 'nonTx(whence)', call: (fx, b) => open(fx, {}, ConsumerStyle.nonTx(b as never)) },
    { name: 'Whence.position', ok: okInt0, call: (fx, b) => open(fx, {}, ConsumerStyle.nonTx(Whence.position(b as never))) },
    { name: 'Whence.timestamp', ok: ['zero', 'minus1', 'fraction', 'unsafe', 'huge', 'negHuge'], // any finite ms
      call: (fx, b) => open(fx, {}, ConsumerStyle.nonTx(Whence.timestamp(b as never))) },
    { name: 'clientTx(id)', ok: ['string'], call: (fx, b) => open(fx, {}, ConsumerStyle.clientTx(b as never)) },
    { name: 'Consumer.open misspelt', ok: [], call: (fx) => open(fx, { pollIntervalMS: 5 }) },
  ];
  const opt = (name: string, ok: readonly string[] = [], tx = false): Field => ({
    name: `Consumer.open ${name}${tx ? ' (clientTx)' : ''}`, ok,
    call: (fx, b) => {
      const parts = name.split('.');
      const o = parts.length === 1 ? { [name]: b } : { [parts[0]!]: { [parts[1]!]: b } };
      return open(fx, o, tx ? ConsumerStyle.clientTx('gen') : nonTx());
    },
  });
  for (const tx of [false, true]) {
    f.push(opt('visibility', nullable, tx), opt('pollIntervalMs', [], tx), opt('retry', [...nullable, ...EMPTY], tx), opt('retry.maxAttempts', nullable, tx),
      opt('retry.delayMs', okInt0, tx), opt('retry.backoff', nullable, tx), opt('retry.maxDelayMs', okInt0, tx), opt('retry.retryOnThrow', ['true'], tx),
      opt('retry.deadLetterDir', DEAD_LETTER_DIR_OK, tx), opt('retry.misspelt', [], tx), opt('commit', [...nullable, ...EMPTY], tx), opt('commit.everyRecords', [], tx),
      opt('commit.everyMs', nullable, tx), opt('commit.misspelt', [], tx), opt('onPositionExpired', nullable, tx), opt('signal', [], tx),
      opt('lagThreshold', nullable, tx), opt('lagThreshold.records', [], tx), opt('lagThreshold.ms', [], tx), opt('backend', nullable, tx));
  }
  return f;
}

/** Calls on an open nonTx consumer of the fixture log, closed after the call. */
function consumerCallFields(): Field[] {
  const h = (): 'commit' => 'commit';
  const on = (use: (c: Consumer, b: unknown, fx: Fx) => unknown) => async (fx: Fx, b: unknown): Promise<unknown> => {
    const c = await Consumer.open({ logDir: fx.log, style: ConsumerStyle.nonTx(Whence.latest()) });
    try {
      return await use(c, b, fx);
    } finally {
      // The consumer is not left busy by the refused call.
      try {
        assert.is([...c.iter()].length, 0, 'the consumer serves again after the refused call');
      } finally {
        await c.close();
      }
    }
  };
  const stop = (): AbortSignal => AbortSignal.timeout(3_000);
  const f: Field[] = [
    { name: 'tail(options)', ok: EMPTY, call: on((c, b) => c.tail(b as never).next()) },
    { name: 'tail signal', call: on((c, b) => c.tail({ signal: b } as never).next()) },
    { name: 'tail misspelt', ok: [], call: on((c) => c.tail({ sginal: stop() } as never).next()) },
  ];
  for (const blocking of [false, true]) {
    const run = (c: Consumer, max: unknown, handler: unknown, opts: unknown): Promise<unknown> =>
      blocking ? c.blockingProcess(max as never, handler as never, opts as never) : c.nonblockingProcess(max as never, handler as never, opts as never);
    const n = blocking ? 'blockingProcess' : 'nonblockingProcess';
    f.push(
      { name: `${n} max`, ok: [...nullable, ...okInt0], call: on((c, b) => run(c, b, h, { signal: stop() })) },
      { name: `${n} handler`, ok: ['fn'], call: on((c, b) => run(c, 1, b, { signal: stop() })) },
      { name: `${n} options`, ok: EMPTY, call: on((c, b) => run(c, 1, h, b)) },
      { name: `${n} signal`, call: on((c, b) => run(c, 1, h, { signal: b })) },
      { name: `${n} misspelt`, ok: [], call: on((c) => run(c, 1, h, { signal: stop(), workres: 1 })) },
      { name: `${n} pool options`, ok: EMPTY, call: on((c, b, fx) => run(c, 1, fx.handler, b)) },
      { name: `${n} pool workers`, ok: nullable, call: on((c, b, fx) => run(c, 1, fx.handler, { workers: b, signal: stop() })) },
      { name: `${n} pool timeoutMs`, ok: nullable, call: on((c, b, fx) => run(c, 1, fx.handler, { workers: 1, timeoutMs: b, signal: stop() })) },
      { name: `${n} pool batchRecords`, ok: nullable, call: on((c, b, fx) => run(c, 1, fx.handler, { workers: 1, batchRecords: b, signal: stop() })) },
      { name: `${n} pool signal`, call: on((c, b, fx) => run(c, 1, fx.handler, { workers: 1, signal: b })) },
      { name: `${n} pool misspelt`, ok: [], call: on((c, _b, fx) => run(c, 1, fx.handler, { workers: 1, signal: stop(), batchRecord: 2 })) },
    );
  }
  return f;
}

function producerFields(): Field[] {
  const f: Field[] = [
    { name: 'Producer.open(options)', ok: [], call: (_fx, b) => Producer.open(b as never) },
    { name: 'Producer.open logDir', ok: ['string'], call: (_fx, b) => Producer.open({ logDir: b } as never) },
    { name: 'Producer.open misspelt', ok: [], call: (fx) => Producer.open({ logDir: fx.log, fileRolSize: 4096 } as never) },
    { name: 'SyncPolicy.periodic', call: (fx, b) => Producer.open({ logDir: fx.log, syncPolicy: SyncPolicy.periodic(b as never) }) },
    { name: 'SyncPolicy.everyBytes', call: (fx, b) => Producer.open({ logDir: fx.log, syncPolicy: SyncPolicy.everyBytes(b as never) }) },
  ];
  const opts: Array<[string, readonly string[]]> = [
    ['syncPolicy', []], ['fileRollSize', []], ['blockingMinimumRetention', [...nullable, ...okInt0]], ['maxTotalBytes', nullable], ['maxFileAge', nullable],
    ['maxRecordBytes', okInt0], ['ringBytes', []], ['appendTimeoutMs', okInt0], ['maxBatchBytes', []], ['indexIntervalBytes', []],
    ['dedupWindow', nullable], ['acceptConnections', ['true']],
  ];
  for (const [k, ok] of opts) {
    for (const where of ['log', 'new'] as const) {
      f.push({ name: `Producer.open ${k} (${where})`, ok, call: (fx, b) => Producer.open({ logDir: where === 'log' ? fx.log : join(fx.root, 'new'), [k]: b } as never) });
    }
  }
  // Calls on the live producer of another log: nothing appended.
  const live = (use: (p: Producer, b: unknown) => unknown) => async (fx: Fx, b: unknown): Promise<unknown> => {
    const before = fx.live.nextOffset;
    try {
      return await use(fx.live, b);
    } finally {
      assert.is(fx.live.nextOffset, before, 'a refused call appended nothing');
    }
  };
  f.push(
    { name: 'append data', ok: [...STRINGS, 'hugeString'], call: live((p, b) => p.append(b as never)) },
    { name: 'append options', ok: [...nullable, ...EMPTY], call: live((p, b) => p.append('x', b as never)) },
    { name: 'append key', ok: [...nullable, ...STRINGS], call: live((p, b) => p.append('x', { key: b } as never)) },
    { name: 'append headers', ok: [...nullable, ...EMPTY], call: live((p, b) => p.append('x', { headers: b } as never)) },
    { name: 'append header value', ok: STRINGS, call: live((p, b) => p.append('x', { headers: { h: b } } as never)) },
    { name: 'append dedupKey', ok: nullable, call: live((p, b) => p.append('x', { dedupKey: b } as never)) },
    { name: 'append misspelt', ok: [], call: live((p) => p.append('x', { kee: 'k' } as never)) },
    { name: 'appendBatch', ok: ['emptyArray'], call: live((p, b) => p.appendBatch(b as never)) },
    { name: 'appendBatch record', ok: [...STRINGS, 'hugeString'], call: live((p, b) => p.appendBatch(['ok', b] as never)) },
    { name: 'appendBatch record data', ok: [...STRINGS, 'hugeString'], call: live((p, b) => p.appendBatch([{ data: b }] as never)) },
    { name: 'appendBatch record key', ok: [...nullable, ...STRINGS], call: live((p, b) => p.appendBatch([{ data: 'x', key: b }] as never)) },
    { name: 'appendBatch record misspelt', ok: [], call: live((p) => p.appendBatch([{ data: 'x', kee: 'k' }] as never)) },
    { name: 'flush options', ok: EMPTY, call: live((p, b) => p.flush(b as never)) },
    { name: 'flush signal', call: live((p, b) => p.flush({ signal: b } as never)) },
    { name: 'flush misspelt', ok: [], call: live((p) => p.flush({ sginal: 1 } as never)) },
    { name: 'writable options', ok: EMPTY, call: live((p, b) => p.writable(b as never)) },
    { name: 'writable bytes', ok: okInt0, call: live((p, b) => p.writable({ bytes: b } as never)) },
    { name: 'writable signal', call: live((p, b) => p.writable({ signal: b } as never)) },
    { name: 'Producer.attach', call: (_fx, b) => Producer.attach(b as never) },
    { name: 'Producer.connect(options)', ok: [], call: (_fx, b) => Producer.connect(b as never) },
    { name: 'Producer.connect logDir', ok: ['string', 'file', 'throughFile', 'loop', 'notALog'], call: (_fx, b) => Producer.connect({ logDir: b } as never) },
    { name: 'Producer.connect maxInFlightBytes', call: (fx, b) => Producer.connect({ logDir: fx.log, maxInFlightBytes: b } as never) },
    { name: 'Producer.connect connectTimeoutMs', call: (fx, b) => Producer.connect({ logDir: fx.log, connectTimeoutMs: b } as never) },
    { name: 'Producer.connect misspelt', ok: [], call: (fx) => Producer.connect({ logDir: fx.log, timeoutMs: 5 } as never) },
  );
  return f;
}

function adminFields(): Field[] {
  return [
    { name: 'inspectLog', call: (_fx, b) => inspectLog(b as never) },
    { name: 'verifyLog dir', call: (_fx, b) => verifyLog(b as never) },
    { name: 'verifyLog options', ok: EMPTY, call: (fx, b) => verifyLog(fx.log, b as never) },
    { name: 'verifyLog onProgress', ok: [...nullable, 'fn'], call: (fx, b) => verifyLog(fx.log, { onProgress: b } as never) },
    { name: 'repairLog dir', call: (_fx, b) => repairLog(b as never, { dryRun: true }) },
    { name: 'repairLog options', ok: EMPTY, call: (fx, b) => repairLog(fx.log, b as never) },
    { name: 'repairLog dryRun', ok: ['true'], call: (fx, b) => repairLog(fx.log, { dryRun: b } as never) },
    { name: 'repairLog backupDir', ok: ['string', 'notALog'], call: (fx, b) => repairLog(fx.log, { dryRun: true, backupDir: b } as never) },
    { name: 'repairLog onProgress', ok: [...nullable, 'fn'], call: (fx, b) => repairLog(fx.log, { dryRun: true, onProgress: b } as never) },
    { name: 'unlockLog dir', call: (_fx, b) => unlockLog(b as never, { dryRun: true }) },
    { name: 'unlockLog options', ok: EMPTY, call: (fx, b) => unlockLog(fx.log, b as never) },
    { name: 'unlockLog dryRun', ok: ['true'], call: (fx, b) => unlockLog(fx.log, { dryRun: b } as never) },
    { name: 'resetCursor dir', call: (_fx, b) => resetCursor(b as never, 'c1', { to: 'oldest' }) },
    { name: 'resetCursor id', ok: ['string'], call: (fx, b) => resetCursor(fx.log, b as never, { to: 'oldest' }) },
    { name: 'resetCursor options', call: (fx, b) => resetCursor(fx.log, 'c1', b as never) },
    { name: 'resetCursor to', ok: okInt0, call: (fx, b) => resetCursor(fx.log, 'c1', { to: b } as never) },
    { name: 'resetCursor state', call: (fx, b) => resetCursor(fx.log, 'c1', { to: 'oldest', state: b } as never) },
    { name: 'resetCursor misspelt', ok: [], call: (fx) => resetCursor(fx.log, 'c1', { to: 'oldest', stat: 'keep' } as never) },
    { name: 'deleteCursor dir', call: (_fx, b) => deleteCursor(b as never, 'c1') },
    { name: 'deleteCursor id', ok: ['string'], call: (fx, b) => deleteCursor(fx.log, b as never) },
  ];
}

function jetstreamFields(): Field[] {
  const base = { servers: 'nats://127.0.0.1:1', stream: 'S' };
  const f: Field[] = [
    { name: 'jetstream(options)', ok: [], call: (_fx, b) => jetstream(b as never) },
    { name: 'jetstream misspelt', ok: [], call: () => jetstream({ ...base, server: 'x' } as never) },
  ];
  for (const [k, ok] of [['servers', ['string', 'hugeString']], ['stream', ['string']], ['subject', ['string', 'hugeString']], ['replicas', []], ['leaseMs', []], ['timeoutMs', []], ['maxQueueBytes', []]] as const) {
    f.push({ name: `jetstream ${k}`, ok, call: (_fx, b) => jetstream({ ...base, [k]: b } as never) });
  }
  for (const k of ['appendTimeoutMs', 'maxRecordBytes', 'dedupWindow', 'syncPolicy', 'maxTotalBytes']) {
    f.push({ name: `Producer.open on jetstream ${k}`, ok: k === 'dedupWindow' || k === 'maxTotalBytes' ? nullable : k === 'maxRecordBytes' || k === 'appendTimeoutMs' ? okInt0 : [],
      call: (_fx, b) => Producer.open({ backend: jetstream(base), [k]: b } as never) });
  }
  f.push({ name: 'Producer.open backend', call: (_fx, b) => Producer.open({ backend: b } as never) });
  return f;
}

/** The special logDir values: a file, a path through a file, a symlink loop, a folder holding no log. */
const PATH_LABELS = ['file', 'throughFile', 'loop', 'notALog'] as const;
const pathOf = (fx: Fx, l: string): string =>
  l === 'file' ? fx.file : l === 'throughFile' ? join(fx.file, 'sub') : l === 'loop' ? join(fx.loop, 'x') : fx.notALog;

async function fixture(): Promise<Fx> {
  const root = tempDir('rlog-badgen-');
  const log = join(root, 'log');
  const p = await Producer.open({ logDir: log, fileRollSize: 1024 });
  for (let i = 0; i < 30; i++) p.append(`r${i}-${'x'.repeat(i * 3)}`);
  await p.close();
  const c = await Consumer.open({ logDir: log, style: ConsumerStyle.clientTx('c1') });
  await c.nonblockingProcess(3, () => 'commit');
  await c.close();
  const file = join(root, 'a-file');
  writeFileSync(file, 'not a log');
  const loop = join(root, 'loop');
  symlinkSync(loop, loop);
  const notALog = join(root, 'not-a-log');
  mkdirSync(notALog);
  writeFileSync(join(notALog, 'notes.txt'), 'hello');
  const live = await Producer.open({ logDir: join(tempDir('rlog-badgen-live-'), 'live') });
  return { root, log, file, loop, notALog, live, handler: new URL('./fixtures/pool-handler.mjs', import.meta.url) };
}

/** The log (bytes and mtimes), the names beside it, the folder holding no log and the file: the loop itself cannot be walked. */
const state = (fx: Fx): string =>
  [digestDir(fx.log), ...listing(fx.log), readdirSync(fx.root).sort().join(','), digestDir(fx.notALog), readFileSync(fx.file, 'utf8'), readdirSync('.').sort().join(',')].join('\n');

test('every entry point, one bad field at a time: a LogError with a bad-input code, the directory untouched', async () => {
  announceSeed(FILE);
  const fx = await fixture();
  const fields = [...producerFields(), ...consumerFields(), ...consumerCallFields(), ...adminFields(), ...jetstreamFields()];
  const pathFields = new Set(fields.filter((f) => /[ .](logDir|dir|deadLetterDir|backupDir)( |$)/.test(f.name)).map((f) => f.name));
  const seen = new Map<string, number>();
  const arb = fc.integer({ min: 0, max: fields.length - 1 }).chain((i) => {
    const field = fields[i]!;
    const labels = [...LABELS, ...(pathFields.has(field.name) ? PATH_LABELS : [])].filter((l) => !(field.ok ?? []).includes(l));
    return fc.tuple(fc.constant(field), fc.constantFrom(...labels));
  });
  try {
    const one = async ([field, label]: [Field, string]): Promise<void> => {
      const before = state(fx);
      const bad = (PATH_LABELS as readonly string[]).includes(label) ? pathOf(fx, label) : BAD[label]!();
      let outcome: unknown = 'success';
      try {
        const r = await field.call(fx, bad);
        if (r !== null && typeof r === 'object' && typeof (r as { close?: unknown }).close === 'function') await (r as { close(): Promise<void> }).close();
      } catch (e) {
        outcome = e;
      }
      const what = `${field.name} with ${label}`;
      if (outcome !== OWN) {
        assert.ok(outcome instanceof LogError, `${what}: expected a LogError, got ${outcome === 'success' ? 'success' : String((outcome as Error)?.stack ?? outcome)}`);
        assert.ok(BAD_CODES.has(outcome.code), `${what}: code ${outcome.code} (${outcome.message.slice(0, 300)})`);
        seen.set(outcome.code, (seen.get(outcome.code) ?? 0) + 1);
      } else {
        seen.set('own error', (seen.get('own error') ?? 0) + 1);
      }
      assert.is(state(fx), before, `${what}: the directory changed`);
    };
    if (process.env.ALL_CASES !== undefined) {
      const failures: string[] = [];
      for (const field of fields) {
        if (!field.name.includes(process.env.ALL_CASES)) continue;
        const labels = [...LABELS, ...(pathFields.has(field.name) ? PATH_LABELS : [])].filter((l) => !(field.ok ?? []).includes(l));
        for (const label of labels) {
          try {
            if (process.env.TRACE !== undefined) console.log(`${field.name} ${label}`);
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([one([field, label]), new Promise((_r, reject) => { timer = setTimeout(() => reject(new Error(`${field.name} with ${label}: HANG`)), 10_000); })]);
            clearTimeout(timer);
          } catch (e) {
            failures.push((e as Error).message.split('\n').slice(0, 3).join(' | ').slice(0, 400));
          }
        }
      }
      console.log(failures.join('\n'));
      return;
    }
    await checkProperty('one bad field', arb, one, { runs: Number(process.env.FC_RUNS ?? 400), caseTimeoutMs: 15_000, file: FILE });
    console.log(`  codes: ${[...seen].map(([c, n]) => `${c} ${n}`).join(', ')}`);
  } finally {
    await fx.live.close();
  }
});

test.run();
