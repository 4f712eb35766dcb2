/**
 * The consume workloads: a pre-filled log read by one consumer, transactional (clientTx, a durable
 * commit per record or per group) or not (nonTx), through nonblockingProcess or the iterator. Every run
 * opens a consumer with a fresh consumer id, so each one starts at the oldest record with a new cursor.
 * The timed part is the processing call or the loop alone (open and close are not timed); it includes
 * the cursor sync the consumer does when the call or loop ends.
 */
import fs, { readdirSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../../dist/index.js';
import { nowMs } from './stats.js';
import { RECORD_BYTES } from './workloads.js';

const record = Buffer.alloc(RECORD_BYTES, 0x62);

/** Appends n 100-byte records with SyncPolicy.never(), flushes and closes. Returns seconds (not a figure). */
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

export type Form = 'process' | 'iter';

export interface ConsumeSpec {
  readonly logDir: string;
  /** null: nonTx from the oldest record; else clientTx with this id (fresh: a new cursor at the oldest record). */
  readonly consumerId: string | null;
  readonly form: Form;
  /** clientTx: commit.everyRecords (1: the default, a durable commit per record). */
  readonly everyRecords: number;
  /** Stop after this many records (warm-ups); null: the whole log. */
  readonly max: number | null;
  /** Count the fs calls of the processing call or loop (an untimed run: seconds are then not a figure). */
  readonly countFs?: boolean;
}

export interface ConsumeRun {
  readonly records: number;
  readonly seconds: number;
  /** clientTx: the committed cursor after the run (a fresh cursor starts at 0: the records committed); nonTx: null. */
  readonly committed: number | null;
  /** With countFs: the fs calls made by the processing call or loop (open and close left out). */
  readonly fs: FsCounts | null;
}

/** One consumer over the log per `spec`; checks what it read and, for clientTx, the committed cursor. */
export async function consumeOnce(spec: ConsumeSpec): Promise<ConsumeRun> {
  const c = await Consumer.open({
    logDir: spec.logDir,
    style: spec.consumerId === null ? ConsumerStyle.nonTx(Whence.oldest()) : ConsumerStyle.clientTx(spec.consumerId),
    ...(spec.consumerId !== null && spec.everyRecords !== 1 ? { commit: { everyRecords: spec.everyRecords } } : {}),
  });
  try {
    let records = 0;
    let bytes = 0;
    const stopCounting = spec.countFs === true ? countFsCalls() : null;
    let counts: FsCounts | null = null;
    const t0 = nowMs();
    try {
      if (spec.form === 'process') {
        const summary = await c.nonblockingProcess(spec.max, (m) => {
          bytes += m.data.byteLength;
          return 'commit';
        });
        records = summary.committed;
      } else {
        for (const m of c.iter()) {
          bytes += m.data.byteLength;
          // Leaving the loop commits nothing more: a warm-up that stops early leaves its last record.
          if (++records === spec.max) break;
        }
      }
    } finally {
      counts = stopCounting?.() ?? null;
    }
    const seconds = (nowMs() - t0) / 1000;
    if (bytes !== records * RECORD_BYTES) throw new Error(`consume: ${bytes} bytes for ${records} records`);
    if (spec.consumerId !== null) {
      const expected = spec.form === 'iter' && spec.max !== null ? records - 1 : records;
      if (c.committedOffset !== expected) throw new Error(`consume: cursor committed at ${c.committedOffset} after ${records} records, expected ${expected}`);
    }
    return { records, seconds, committed: c.committedOffset, fs: counts };
  } finally {
    await c.close();
  }
}

/** The fs calls counted: every file call a cursor commit or a reader could make. */
const COUNTED = ['fdatasyncSync', 'fsyncSync', 'writevSync', 'writeSync', 'readSync', 'openSync', 'closeSync', 'fstatSync', 'renameSync'] as const;
export type FsCounts = Record<(typeof COUNTED)[number], number>;

/**
 * Starts counting the synchronous node:fs calls of this thread (the library's ESM imports see the
 * wrappers through syncBuiltinESMExports); the function returned stops and returns the counts. Not for
 * timed runs: the wrappers cost a little.
 */
function countFsCalls(): () => FsCounts {
  const target = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  const counts = Object.fromEntries(COUNTED.map((k) => [k, 0])) as FsCounts;
  const saved = COUNTED.map((k) => [k, target[k]!] as const);
  for (const [k, orig] of saved) {
    target[k] = (...args: unknown[]): unknown => {
      counts[k]++;
      return orig(...args);
    };
  }
  syncBuiltinESMExports();
  return () => {
    for (const [k, orig] of saved) target[k] = orig;
    syncBuiltinESMExports();
    return counts;
  };
}
