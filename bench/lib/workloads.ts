/**
 * The in-process workloads: append under `always` and `never`, and reading with consumer.iter().
 * Every run uses a fresh log directory given by the caller, 100-byte records (one Buffer appended over
 * and over: the copy into the ring is what is measured, not building records) and no size limit.
 */
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../../dist/index.js';
import { nowMs, sleep } from './stats.js';

export const RECORD_BYTES = 100;
/**
 * Bytes one record takes in a segment file: its u32 length prefix and the payload. Each frame (a batch
 * of up to 1 MiB, ~10,000 such records) adds 44 bytes of header and trailer: under 0.01 byte a record,
 * left out.
 */
export const ON_DISK_RECORD_BYTES = RECORD_BYTES + 4;

const record = Buffer.alloc(RECORD_BYTES, 0x61);

function open(logDir: string, syncPolicy: SyncPolicy): Promise<Producer> {
  return Producer.open({ logDir, syncPolicy, maxTotalBytes: null });
}

/** Polls (1 ms) until every appended record is written to the segment files (handed to the OS). */
async function untilWritten(p: Producer, offset: number): Promise<void> {
  while (p.writtenOffset < offset) await sleep(1);
}

/** `always`: append n records flat out, then await flush(). Returns seconds from the first append to flush. */
export async function appendAlways(logDir: string, n: number): Promise<number> {
  const p = await open(logDir, SyncPolicy.always());
  try {
    const t0 = nowMs();
    for (let i = 0; i < n; i++) p.append(record);
    await p.flush();
    const seconds = (nowMs() - t0) / 1000;
    if (p.durableOffset < n) throw new Error(`always: durableOffset ${p.durableOffset} < ${n} after flush`);
    return seconds;
  } finally {
    await p.close();
  }
}

export interface NeverRun {
  /** Main-thread time of the append loop alone, per append. */
  readonly appendNs: number;
  /** Seconds until every record was written to the files (what `never` promises). */
  readonly writtenSec: number;
  /** Seconds until the final flush() (fsync) returned. */
  readonly flushedSec: number;
  /** ns per append for bursts that fit in the ring (no waiting for the writer), one per burst. */
  readonly burstNs: number[];
}

/** `never`: append n records flat out; then `bursts` bursts of `burstN` records, each into an empty ring. */
export async function appendNever(logDir: string, n: number, bursts: number, burstN: number): Promise<NeverRun> {
  const p = await open(logDir, SyncPolicy.never());
  try {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) p.append(record);
    const t1 = process.hrtime.bigint();
    await untilWritten(p, n);
    const t2 = process.hrtime.bigint();
    await p.flush();
    const t3 = process.hrtime.bigint();
    const burstNs: number[] = [];
    for (let b = 0; b < bursts; b++) {
      await p.flush(); // an empty ring, and no fsync left over from the last burst
      const s0 = process.hrtime.bigint();
      for (let i = 0; i < burstN; i++) p.append(record);
      const s1 = process.hrtime.bigint();
      burstNs.push(Number(s1 - s0) / burstN);
    }
    return {
      appendNs: Number(t1 - t0) / n,
      writtenSec: Number(t2 - t0) / 1e9,
      flushedSec: Number(t3 - t0) / 1e9,
      burstNs,
    };
  } finally {
    await p.close();
  }
}

/**
 * Reads the whole log from the oldest record; returns [records, seconds]. With `upTo`, by `for await`
 * over consumer.tail() until that many records (the blocking iterator, catching up); else with iter().
 */
async function readAll(logDir: string, upTo: number | null = null): Promise<[number, number]> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    let count = 0;
    let bytes = 0;
    const t0 = nowMs();
    if (upTo === null) {
      for (const m of c.iter()) {
        count++;
        bytes += m.data.byteLength;
      }
    } else {
      for await (const m of c.tail()) {
        bytes += m.data.byteLength;
        if (++count >= upTo) break;
      }
    }
    const seconds = (nowMs() - t0) / 1000;
    if (bytes !== count * RECORD_BYTES) throw new Error(`read: ${bytes} bytes for ${count} records`);
    return [count, seconds];
  } finally {
    await c.close();
  }
}

export interface ReadRuns {
  /** Seconds per full read while the producer is open in this process (shared-memory tail). */
  readonly inProcessSec: number[];
  /** Seconds per full read after the producer closed (file mode). */
  readonly fileModeSec: number[];
  /** The same by `for await` over consumer.tail(), file mode. */
  readonly tailFileModeSec: number[];
}

/** Writes n records (never + flush), then reads them all `reps` times in each mode, after one warm-up read. */
export async function readBoth(logDir: string, n: number, reps: number): Promise<ReadRuns> {
  const p = await open(logDir, SyncPolicy.never());
  const inProcessSec: number[] = [];
  const fileModeSec: number[] = [];
  try {
    for (let i = 0; i < n; i++) p.append(record);
    await p.flush();
    await readAll(logDir); // warm-up
    for (let r = 0; r < reps; r++) inProcessSec.push(checked(await readAll(logDir), n));
  } finally {
    await p.close();
  }
  await readAll(logDir); // warm-up
  for (let r = 0; r < reps; r++) fileModeSec.push(checked(await readAll(logDir), n));
  const tailFileModeSec: number[] = [];
  await readAll(logDir, n);
  for (let r = 0; r < reps; r++) tailFileModeSec.push(checked(await readAll(logDir, n), n));
  return { inProcessSec, fileModeSec, tailFileModeSec };
}

function checked([count, seconds]: [number, number], n: number): number {
  if (count !== n) throw new Error(`read ${count} records, expected ${n}`);
  return seconds;
}
