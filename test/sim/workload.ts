/**
 * Workloads of a few operations run on the crash simulator, and the oracle that checks a crash state.
 *
 * Operations (one letter each):
 *   a  append 3 small records (1 to 60 bytes), let the writer run
 *   A  append 12 records of 100 bytes: at least one segment roll (fileRollSize 1 KiB), and retention
 *      by bytes once the log passes 3 KiB
 *   f  flush: the writer fsyncs what it has
 *   c  clean close, then reopen
 *   p  power loss in the middle of the workload (a random crash state), then reopen: recovery's own
 *      truncation and rewrites are then crash points of what follows
 *   K  a transactional consumer commits its cursor (with a state) at the durable offset
 *   t  two hours pass: retention by age deletes every sealed segment
 *   B  appendBatch of 6 records of 50 to 250 bytes (often larger than a segment and than
 *      maxBatchBytes, so six single appends would be split over frames), let the writer run
 *
 * OPS is what the exhaustive test combines; B is combined in a smaller set of its own (BATCH_OPS).
 */
import { recoverLog } from '../../src/storage/recovery.js';
import { SimFS, type CrashMode, type Rand } from './sim-fs.js';
import { Clock, LOG_DIR, SimLog, commitCursor, payload, readAll, readCursor, simOptions } from './sim-log.js';
import type { SyncPolicy } from '../../src/producer/options.js';
import { prng } from '../kit.js';

export const OPS = ['a', 'A', 'f', 'c', 'p', 'K', 't'] as const;
/** The operations combined with appendBatch: appends, flush, close, power loss. */
export const BATCH_OPS = ['B', 'a', 'f', 'c', 'p'] as const;
export type Op = (typeof OPS)[number] | 'B';

/** What the workload knows at the crash: the bytes at each offset, and what was acknowledged. */
export interface Model {
  /** Expected bytes by offset (a reopen forgets what it did not recover). */
  readonly expected: Uint8Array[];
  /** Every offset below this was reported durable (the writer's published DURABLE_OFFSET). */
  acked: number;
  /** The last cursor commit that returned, or null. */
  cursorAcked: number | null;
  /** Batches appended, as [first offset, record count], that the log may still hold. */
  batches: [number, number][];
}

/** Throws if the log ends inside a batch: `end` must not cut any of `batches`. */
function checkBatchesWhole(batches: readonly [number, number][], end: number, when: string): void {
  for (const [first, n] of batches) {
    if (first < end && end < first + n) throw new OracleError(`${when} the log ends at ${end}, inside the batch of offsets ${first} to ${first + n - 1}`);
  }
}

export interface Run {
  readonly fs: SimFS;
  readonly model: Model;
  readonly crashed: boolean;
}

/**
 * Runs `ops` on a fresh simulated directory, crashing after `crashAfter` mutating I/O calls (Infinity:
 * no crash; then `fs.mutations` tells how many calls the workload makes). `seed` drives record sizes
 * and the mid-workload power losses, so every crash point of one workload replays the same calls.
 */
export function runWorkload(ops: readonly Op[], policy: SyncPolicy, crashAfter: number, seed: number, lyingDisk = false): Run {
  const rand = prng(seed);
  const opts = simOptions(policy);
  const clock = new Clock();
  let fs = new SimFS();
  fs.crashAfter = crashAfter;
  fs.ignoreFsync = lyingDisk;
  const model: Model = { expected: [], acked: 0, cursorAcked: null, batches: [] };
  let inc = 0;
  const open = (): SimLog => {
    const log = new SimLog(fs, opts, clock);
    if (log.nextOffsetAtOpen < model.acked) {
      throw new OracleError(`reopen found ${log.nextOffsetAtOpen} records, but ${model.acked} were acknowledged durable`);
    }
    if (log.nextOffsetAtOpen > model.expected.length) {
      throw new OracleError(`reopen found ${log.nextOffsetAtOpen} records, but only ${model.expected.length} were appended`);
    }
    checkBatchesWhole(model.batches, log.nextOffsetAtOpen, 'at reopen');
    model.expected.length = log.nextOffsetAtOpen;
    model.batches = model.batches.filter(([first]) => first < log.nextOffsetAtOpen);
    inc++;
    return log;
  };
  const note = (log: SimLog): void => { model.acked = Math.max(model.acked, log.durable); };
  const append = (log: SimLog, size: number): void => {
    const offset = log.appended;
    const data = payload(offset, inc, size);
    model.expected[offset] = data;
    log.append(data);
  };
  try {
    let log = open();
    note(log);
    for (const op of ops) {
      switch (op) {
        case 'a': for (let i = 0; i < 3; i++) append(log, 1 + Math.floor(rand() * 60)); log.pump(); break;
        case 'A': for (let i = 0; i < 12; i++) append(log, 100); log.pump(); break;
        case 'f': log.flush(); break;
        case 'c': log.close(); note(log); log = open(); break;
        case 'p': {
          const next = fs.crashState('random', rand);
          next.mutations = fs.mutations;
          next.crashAfter = fs.crashAfter;
          next.dropLocks();
          next.ignoreFsync = lyingDisk;
          fs = next;
          log = open();
          break;
        }
        case 'K': {
          const at = log.durable;
          commitCursor(fs, at, 0);
          model.cursorAcked = at;
          break;
        }
        case 't': clock.advance(2 * 3_600_000); log.pump(); break;
        case 'B': {
          const records = Array.from({ length: 6 }, (_, i) => payload(log.appended + i, inc, 50 + Math.floor(rand() * 200)));
          records.forEach((r, i) => { model.expected[log.appended + i] = r; });
          model.batches.push([log.appendBatch(records), records.length]);
          log.pump();
          break;
        }
      }
      note(log);
    }
  } catch (e) {
    // The engine wraps some errors (a LogError whose cause is the SimCrash): the file system knows.
    if (!fs.crashed) throw e;
    return { fs, model, crashed: true };
  }
  return { fs, model, crashed: false };
}

export class OracleError extends Error {}

/**
 * Produces one crash state of `run` and checks it: recovery succeeds; nothing acknowledged is lost;
 * every record present is byte-identical to what was appended at its offset, with contiguous offsets;
 * the cursor is readable, not behind its last acknowledged commit and not past the log's end; a second
 * recovery changes nothing; and (when `appendAfter`) the recovered log takes new records.
 * Throws OracleError (or the engine's error) describing the first violation.
 */
export interface StateReport {
  /** Recovery cut a torn tail. */
  readonly truncated: boolean;
  /** Recovery removed the leftovers of an interrupted roll. */
  readonly removedRoll: boolean;
  /** Records appended but never acknowledged durable that the crash took. */
  readonly lostUnacked: number;
}

export function checkCrashState(run: Run, mode: CrashMode, rand: Rand, policy: SyncPolicy, appendAfter: boolean): StateReport {
  const s = run.fs.crashState(mode, rand);
  const opts = simOptions(policy);
  const clock = new Clock();
  // The log directory itself must survive once a record was acknowledged (its entry fsynced in its parent).
  if (!s.exists(LOG_DIR)) {
    if (run.model.acked > 0) throw new OracleError(`the log directory is gone, ${run.model.acked} records were durable`);
    s.mkdirp(LOG_DIR);
  }
  const rec = recoverLog(s, LOG_DIR, opts.indexIntervalBytes, clock.now());
  const report: StateReport = { truncated: rec.truncated !== null, removedRoll: rec.removed.length > 0, lostUnacked: run.model.expected.length - rec.nextOffset };
  const { model } = run;
  if (rec.nextOffset < model.acked) throw new OracleError(`lost acknowledged records: log ends at ${rec.nextOffset}, ${model.acked} were durable`);
  checkBatchesWhole(model.batches, rec.nextOffset, 'after recovery');
  const { start, records } = readAll(s);
  if (start + records.length !== rec.nextOffset) throw new OracleError(`reader ends at ${start + records.length}, recovery at ${rec.nextOffset}`);
  for (let i = 0; i < records.length; i++) {
    const want = model.expected[start + i];
    if (want === undefined) throw new OracleError(`ghost record at offset ${start + i}: never appended`);
    if (!Buffer.from(records[i]!).equals(want)) throw new OracleError(`record ${start + i} differs from what was appended`);
  }
  const cursor = readCursor(s);
  if (model.cursorAcked !== null) {
    if (cursor === null) throw new OracleError(`cursor committed at ${model.cursorAcked} is gone`);
    if (cursor.offset < model.cursorAcked) throw new OracleError(`cursor went back from ${model.cursorAcked} to ${cursor.offset}`);
  }
  if (cursor !== null && cursor.offset > rec.nextOffset) throw new OracleError(`cursor at ${cursor.offset} points past the log's end ${rec.nextOffset}`);
  if (cursor?.state != null && Buffer.from(cursor.state).readUInt32LE(0) !== cursor.offset) throw new OracleError('cursor state does not match its offset');

  const before = s.snapshot();
  recoverLog(s, LOG_DIR, opts.indexIntervalBytes, clock.now());
  const after = s.snapshot();
  if (before.size !== after.size || [...before].some(([k, v]) => after.get(k) !== v)) throw new OracleError('a second recovery changed the directory');

  if (appendAfter) {
    const log = new SimLog(s, opts, clock);
    const first = log.appended;
    log.append(payload(first, 99, 20));
    log.append(payload(first + 1, 99, 20));
    log.flush();
    log.close();
    const again = readAll(s);
    if (again.start + again.records.length !== first + 2) throw new OracleError(`after appending 2 at ${first}, the log ends at ${again.start + again.records.length}`);
    if (!Buffer.from(again.records[again.records.length - 1]!).equals(payload(first + 1, 99, 20))) throw new OracleError('record appended after recovery differs');
  }
  return report;
}
