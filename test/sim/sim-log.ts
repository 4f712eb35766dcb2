/**
 * The engine run in-process, step by step, on a simulated file system: the real ring appender, the
 * real writer loop (LogWriter.pump/run), the real recovery, reader and cursor code. Only the thread
 * and the clock are replaced, so a crash can be placed after any single I/O call, deterministically.
 */
import { join } from 'node:path';
import { resolveProducerOptions, SyncPolicy, type ResolvedProducerOptions, type SyncPolicy as Policy } from '../../src/producer/options.js';
import { CONTROL_BYTES, I32, I64, State, controlViews, loadOffset, storeOffset, type ControlViews, type SharedLog } from '../../src/ring/layout.js';
import { newRing } from '../../src/ring/ring-memory.js';
import { RingAppender } from '../../src/ring/ring-appender.js';
import { recoverLog } from '../../src/storage/recovery.js';
import { LogWriter } from '../../src/writer/log-writer.js';
import { LogReader } from '../../src/reader/log-reader.js';
import { readLogBounds } from '../../src/reader/log-bounds.js';
import { TxCursor, cursorDir, CURSOR_SUFFIX } from '../../src/cursor/tx-cursor.js';
import { readCursorFile } from '../../src/cursor/cursor-file.js';
import { makeLogDir, type FileIO } from '../../src/storage/file-io.js';

export const LOG_DIR = '/sim/log';
export const CURSOR_NAME = 'sim';

/** A fake clock: every call moves it 1 ms, and `advance` jumps. */
export class Clock {
  t = 1_700_000_000_000;
  readonly now = (): number => ++this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export function simOptions(policy: Policy): ResolvedProducerOptions {
  return resolveProducerOptions({
    logDir: LOG_DIR,
    syncPolicy: policy,
    fileRollSize: 1024,
    maxTotalBytes: 3072,
    maxFileAge: 3_600_000,
    ringBytes: 64 * 1024,
    indexIntervalBytes: 512,
    maxBatchBytes: 1024,
  });
}

export const POLICIES: ReadonlyArray<{ readonly name: string; readonly policy: Policy }> = [
  { name: 'always', policy: SyncPolicy.always() },
  { name: 'never', policy: SyncPolicy.never() },
  { name: 'periodic', policy: SyncPolicy.periodic(5) },
  { name: 'everyBytes', policy: SyncPolicy.everyBytes(300) },
];

/** The payload of the record appended at `offset` by incarnation `inc`: self-describing. */
export function payload(offset: number, inc: number, size: number): Uint8Array {
  const b = Buffer.alloc(size, (offset * 7 + inc * 13) & 0xff);
  if (size >= 8) { b.writeUInt32LE(offset, 0); b.writeUInt32LE(inc, 4); }
  return b;
}

/** One incarnation of the log (a writer on the simulated directory). */
export class SimLog {
  readonly c: ControlViews;
  private readonly appender: RingAppender;
  readonly writer: LogWriter;
  readonly nextOffsetAtOpen: number;
  appended: number;

  constructor(readonly io: FileIO, readonly opts: ResolvedProducerOptions, readonly clock: Clock) {
    makeLogDir(io, LOG_DIR); // as openWriter does
    const shared: SharedLog = { control: new SharedArrayBuffer(CONTROL_BYTES), ring: newRing(opts.ringBytes) };
    this.c = controlViews(shared.control);
    const recovered = recoverLog(io, LOG_DIR, opts.indexIntervalBytes, clock.now());
    this.nextOffsetAtOpen = recovered.nextOffset;
    this.appended = recovered.nextOffset;
    this.writer = new LogWriter(io, opts, shared, recovered, clock.now, undefined, clock.now);
    this.appender = new RingAppender(this.c, shared.ring, opts.maxRecordBytes, 0, () => {
      throw new Error('simulated log stopped');
    });
  }

  append(data: Uint8Array): number {
    this.appender.append(data);
    return this.appended++;
  }

  /** appendBatch: the records as one unit; returns the first one's offset. */
  appendBatch(records: readonly Uint8Array[]): number {
    const first = this.appended;
    this.appended += this.appender.appendBatch(records);
    return first;
  }

  pump(): void {
    this.writer.pump();
  }

  flush(): void {
    storeOffset(this.c, I64.FLUSH_TARGET, this.appended);
    this.writer.pump();
  }

  close(): void {
    Atomics.store(this.c.i32, I32.STATE, State.CLOSING);
    this.writer.run();
  }

  get durable(): number {
    return loadOffset(this.c, I64.DURABLE_OFFSET);
  }
}

/** Commits the simulated consumer's cursor at `offset` (one open, commit, close). */
export function commitCursor(io: FileIO, offset: number, start: number): void {
  const cursor = TxCursor.open(io, LOG_DIR, CURSOR_NAME, start, 1, null);
  try {
    const state = Buffer.alloc(8);
    state.writeUInt32LE(offset, 0);
    cursor.advance(offset, state);
  } finally {
    cursor.close();
  }
}

export function readCursor(io: FileIO): { offset: number; state: Uint8Array | null } | null {
  return readCursorFile(io, join(cursorDir(LOG_DIR), CURSOR_NAME + CURSOR_SUFFIX), CURSOR_NAME);
}

/** Every record of the log, from its start. */
export function readAll(io: FileIO): { start: number; records: Uint8Array[] } {
  const r = new LogReader(io, LOG_DIR);
  try {
    const { start } = readLogBounds(io, LOG_DIR);
    r.seek(start);
    const records: Uint8Array[] = [];
    for (let m = r.read(Infinity, false); m !== null; m = r.read(Infinity, false)) {
      if (m.offset !== start + records.length) throw new Error(`offset ${m.offset} where ${start + records.length} was due`);
      records.push(Buffer.from(m.data));
    }
    return { start, records };
  } finally {
    r.close();
  }
}
