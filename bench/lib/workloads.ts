/**
 * The in-process workloads on a log of 100-byte records (one Buffer appended over and over: the copy
 * into the ring is what is measured, not building records), no size limit, a fresh directory given
 * by the caller: filling, the cost of append() on the caller's thread, reading from the oldest record,
 * consuming (clientTx or nonTx, through nonblockingProcess or the iterator), seeks, and the node:fs
 * calls any of them makes.
 */
import { execFileSync } from 'node:child_process';
import fs, { readdirSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../../dist/index.js';
import { inChild, nowMs, percentiles, type Percentiles } from './run.js';

export const RECORD_BYTES = 100;
/**
 * Bytes one record takes in a segment file: its u32 length prefix and the payload. Each frame (a batch
 * of up to maxBatchBytes, 256 KiB by default: about 2,500 such records) adds 44 bytes of header and
 * trailer: under 0.02 byte a record, left out.
 */
export const ON_DISK_RECORD_BYTES = RECORD_BYTES + 4;

const record = Buffer.alloc(RECORD_BYTES, 0x61);
const TIME_SEEK = fileURLToPath(new URL('../fixtures/time-seek.mjs', import.meta.url));

/** Appends n records with SyncPolicy.never(), flushes and closes. Returns seconds (not a figure). */
export async function fillLog(logDir: string, n: number): Promise<number> {
  const t0 = nowMs();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null });
  try {
    for (let i = 0; i < n; i++) p.append(record);
    await p.flush();
    if (p.durableOffset < n) throw new Error(`fill: durableOffset ${p.durableOffset} < ${n} after flush`);
  } finally {
    await p.close();
  }
  return (nowMs() - t0) / 1000;
}

/** The segment files of a log, oldest first. */
export function segmentFiles(logDir: string): string[] {
  return readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort().map((f) => join(logDir, f));
}

export interface AppendCost {
  /** Main-thread time of a flat loop of n appends, per append (the ring fills: the writer sets the pace). */
  readonly loopNs: number;
  /** ns per append for bursts that fit in the ring (no waiting for the writer), one per burst. */
  readonly burstNs: number[];
}

/** `never`: n appends flat out, then `bursts` bursts of `burstN` appends, each into an empty ring. */
export async function appendCost(logDir: string, n: number, bursts: number, burstN: number): Promise<AppendCost> {
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null });
  try {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) p.append(record);
    const loopNs = Number(process.hrtime.bigint() - t0) / n;
    const burstNs: number[] = [];
    for (let b = 0; b < bursts; b++) {
      await p.flush(); // an empty ring, and no fsync left over from the last burst
      const s0 = process.hrtime.bigint();
      for (let i = 0; i < burstN; i++) p.append(record);
      burstNs.push(Number(process.hrtime.bigint() - s0) / burstN);
    }
    return { loopNs, burstNs };
  } finally {
    await p.close();
  }
}

/** What one append() of a large record costs the caller's thread, beside copies of the same bytes into shared memory. */
export interface LargeAppendCost {
  /** ns per append() in bursts into an empty, already touched ring (no waiting for the writer). */
  readonly appendNs: number;
  /** ns per copy of the record into a SharedArrayBuffer at the source's alignment (the fastest copy there is). */
  readonly alignedCopyNs: number;
  /** ns per copy 4 bytes off that alignment (what V8 does byte by byte). */
  readonly misalignedCopyNs: number;
}

/** `never`, a 64 MiB ring: bursts of records of `size` bytes that fill half the ring, the first one untimed (it touches the pages). */
export async function largeAppendCost(logDir: string, size: number, bursts: number): Promise<LargeAppendCost> {
  const ringBytes = 64 * 1024 * 1024;
  const perBurst = Math.floor(ringBytes / 2 / (size + 4));
  const rec = Buffer.alloc(size, 0x61);
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null, ringBytes, maxRecordBytes: size });
  const times: number[] = [];
  try {
    for (let b = 0; b <= 2 * bursts; b++) {
      await p.flush();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < perBurst; i++) p.append(rec);
      if (b >= 2) times.push(Number(process.hrtime.bigint() - t0) / perBurst); // two untimed bursts touch both halves
    }
  } finally {
    await p.close();
  }
  const shared = Buffer.from(new SharedArrayBuffer(ringBytes));
  const copyNs = (shift: number): number => {
    const slots = Math.floor(ringBytes / 2 / (size + 8));
    for (let i = 0; i < slots; i++) shared.set(rec, i * (size + 8) + shift); // touch
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < slots; i++) shared.set(rec, i * (size + 8) + shift);
    return Number(process.hrtime.bigint() - t0) / slots;
  };
  return { appendNs: median(times), alignedCopyNs: copyNs(0), misalignedCopyNs: copyNs(4) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

export type Form = 'process' | 'iter' | 'tail';

export interface ConsumeSpec {
  readonly logDir: string;
  /** null: nonTx from the oldest record; else clientTx with this id (fresh: a new cursor at the oldest record). */
  readonly consumerId: string | null;
  /** nonblockingProcess, for...of iter(), or for await of tail() (nonTx only, up to `max`). */
  readonly form: Form;
  /** clientTx: commit.everyRecords (1: the default, a durable commit per record). */
  readonly everyRecords?: number;
  /** Stop after this many records (warm-ups; tail: the log's length); null: the whole log. */
  readonly max: number | null;
  /** Count the fs calls of the processing call or loop (an untimed run: seconds are then not a figure). */
  readonly countFs?: boolean;
}

export interface ConsumeRun {
  readonly records: number;
  /** The processing call or loop alone (open and close are not timed), with the cursor sync at its end. */
  readonly seconds: number;
  /** clientTx: the committed cursor after the run (a fresh cursor starts at 0: the records committed); nonTx: null. */
  readonly committed: number | null;
  /** With countFs: the fs calls made by the processing call or loop (open and close left out). */
  readonly fs: FsCalls | null;
}

/** One consumer over the log per `spec`; checks what it read and, for clientTx, the committed cursor. */
export async function consumeOnce(spec: ConsumeSpec): Promise<ConsumeRun> {
  const every = spec.everyRecords ?? 1;
  const c = await Consumer.open({
    logDir: spec.logDir,
    style: spec.consumerId === null ? ConsumerStyle.nonTx(Whence.oldest()) : ConsumerStyle.clientTx(spec.consumerId),
    ...(spec.consumerId !== null && every !== 1 ? { commit: { everyRecords: every } } : {}),
  });
  try {
    let records = 0;
    let bytes = 0;
    const stop = spec.countFs === true ? recordFsCalls(false) : null;
    let calls: FsCalls | null = null;
    const t0 = nowMs();
    try {
      if (spec.form === 'process') {
        const summary = await c.nonblockingProcess(spec.max, (m) => {
          bytes += m.data.byteLength;
          return 'commit';
        });
        records = summary.committed;
      } else if (spec.form === 'iter') {
        for (const m of c.iter()) {
          bytes += m.data.byteLength;
          // Leaving the loop commits nothing more: a warm-up that stops early leaves its last record.
          if (++records === spec.max) break;
        }
      } else {
        for await (const m of c.tail()) {
          bytes += m.data.byteLength;
          if (++records === spec.max) break;
        }
      }
    } finally {
      calls = stop?.() ?? null;
    }
    const seconds = (nowMs() - t0) / 1000;
    if (bytes !== records * RECORD_BYTES) throw new Error(`consume: ${bytes} bytes for ${records} records`);
    if (spec.consumerId !== null) {
      const expected = spec.form === 'iter' && spec.max !== null ? records - 1 : records;
      if (c.committedOffset !== expected) throw new Error(`consume: cursor committed at ${c.committedOffset} after ${records} records, expected ${expected}`);
    }
    return { records, seconds, committed: spec.consumerId === null ? null : c.committedOffset, fs: calls };
  } finally {
    await c.close();
  }
}

export interface ReadRuns {
  /** Seconds per full read with iter() while the producer is open in this process (shared-memory tail). */
  readonly inProcessSec: number[];
  /** The same after the producer closed (file mode). */
  readonly fileModeSec: number[];
  /** By `for await` over tail(), file mode. */
  readonly tailFileModeSec: number[];
}

/** Writes n records (never + flush), then reads them all `reps` times in each mode, after one warm-up read. */
export async function readBoth(logDir: string, n: number, reps: number): Promise<ReadRuns> {
  const timed = async (form: Form): Promise<number[]> => {
    await consumeOnce({ logDir, consumerId: null, form, max: n }); // warm-up
    const out: number[] = [];
    for (let r = 0; r < reps; r++) {
      const run = await consumeOnce({ logDir, consumerId: null, form, max: n });
      if (run.records !== n) throw new Error(`read ${run.records} records, expected ${n}`);
      out.push(run.seconds);
    }
    return out;
  };
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null });
  let inProcessSec: number[];
  try {
    for (let i = 0; i < n; i++) p.append(record);
    await p.flush();
    inProcessSec = await timed('iter');
  } finally {
    await p.close();
  }
  return { inProcessSec, fileModeSec: await timed('iter'), tailFileModeSec: await timed('tail') };
}

/** µs of Consumer.open at Whence.position(offset) plus reading that record, in this process, `n` random offsets. */
export async function warmSeeks(logDir: string, records: number, n: number): Promise<Percentiles> {
  const us = new Float64Array(n);
  for (let i = -20; i < n; i++) {
    const offset = Math.floor(Math.random() * records);
    const t0 = nowMs();
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(offset)) });
    const first = c.iter().next();
    const t = nowMs() - t0;
    await c.close();
    if (first.done || first.value.offset !== offset) throw new Error(`seek to ${offset} failed`);
    if (i >= 0) us[i] = t * 1000;
  }
  return percentiles(us);
}

/**
 * µs of one seek in a fresh plain-node process (bench/fixtures/time-seek.mjs) after the log's files
 * were dropped from the page cache (GNU dd iflag=nocache count=0 asks the kernel to drop a file's
 * cached pages). `evicted` says whether dd ran.
 */
export async function coldSeek(logDir: string, offset: number): Promise<{ us: number; evicted: boolean }> {
  let evicted = true;
  try {
    for (const f of segmentFiles(logDir)) {
      for (const file of [f, f.replace(/\.seg$/, '.idx')]) execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
    }
  } catch {
    evicted = false;
  }
  return { us: (await inChild<{ ms: number }>(TIME_SEEK, [logDir, String(offset)])).ms * 1000, evicted };
}

/** A read's size class: what a warm seek reads (index entries, a record's neighbourhood) against a frame checked whole. */
function readBucket(bytes: number): string {
  return bytes <= 4096 ? '<= 4 KiB' : bytes <= 65536 ? '<= 64 KiB' : '> 64 KiB';
}

/** Per kind of node:fs call (reads by size class when timed): calls and ns spent. */
export type FsCalls = Record<string, { calls: number; ns: number }>;

/** The synchronous node:fs calls the library's file layer makes (src/storage/file-io.ts). */
const FS_CALLS = ['openSync', 'closeSync', 'readSync', 'writevSync', 'writeSync', 'fdatasyncSync', 'fsyncSync', 'ftruncateSync',
  'fstatSync', 'statSync', 'readdirSync', 'renameSync', 'unlinkSync', 'linkSync', 'mkdirSync', 'existsSync'] as const;

/**
 * Starts recording the synchronous node:fs calls of this thread: counts, and with `timed` the time of
 * each, reads keyed by their length. The library's ESM import of node:fs sees the wrappers through
 * syncBuiltinESMExports. The function returned stops and returns what was recorded. The wrappers cost
 * a little: counted runs are not timed runs.
 */
export function recordFsCalls(timed: boolean): () => FsCalls {
  const target = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  const out: FsCalls = {};
  const saved = FS_CALLS.map((k) => [k, target[k]!] as const);
  for (const [k, real] of saved) {
    target[k] = (...args: unknown[]): unknown => {
      const t0 = timed ? process.hrtime.bigint() : 0n;
      try {
        return real(...args);
      } finally {
        const key = `${k.replace(/Sync$/, '')}${timed && k === 'readSync' ? ` ${readBucket(Number(args[3]))}` : ''}`;
        const s = (out[key] ??= { calls: 0, ns: 0 });
        s.calls++;
        if (timed) s.ns += Number(process.hrtime.bigint() - t0);
      }
    };
  }
  syncBuiltinESMExports();
  return () => {
    for (const [k, real] of saved) target[k] = real;
    syncBuiltinESMExports();
    return out;
  };
}
