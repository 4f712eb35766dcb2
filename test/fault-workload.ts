/**
 * The fixed workload of the fault loop (fault-loop.test.ts) and its checks. The workload opens a producer
 * on tiny segments with aggressive retention, appends K self-describing records with a flush every few,
 * so that it rolls and deletes segments, closes, then reads the log back with a consumer. Under a fault
 * plan it records what the library acknowledged and every error it raised; `verifyAfter` then reopens
 * the directory without faults and checks the log against that record.
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, LogError } from '../dist/index.js';
import { bounded } from './fault-loop-kit.js';

export const RECORDS = 24;
export const FLUSH_EVERY = 3;
export const OPTIONS = { syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 2048, indexIntervalBytes: 512 };
/** Without retention: for faults whose damage would hide in a segment retention deletes before the check. */
export const KEEP_ALL = { ...OPTIONS, maxTotalBytes: null };
export type WorkloadOptions = typeof OPTIONS | typeof KEEP_ALL;
/** Codes a fault may surface as; anything else (or a plain Error) fails the run. */
const FAULT_CODES = ['ERR_IO', 'ERR_DISK_FULL', 'ERR_WRITER_FAILED'];

/** Record `offset`'s payload names its offset and has a length that varies with it. */
export const payload = (offset: number): string => `rec-${offset}-${'x'.repeat(60 + ((offset * 37) % 50))}`;

export interface Outcome {
  /** Records append() accepted (offsets 0..appended-1 of this run, on top of `base`). */
  appended: number;
  /** Every record below this was acknowledged durable: a flush covering it resolved, or close did. */
  acked: number;
  /** The highest durableOffset the producer ever showed. */
  shownDurable: number;
  /** The LogErrors raised, as `where: code`. */
  errors: string[];
  /** Whether the producer failed (open, append, flush or close). */
  failed: boolean;
}

function expectFault(e: unknown, where: string, out: Outcome): void {
  if (!(e instanceof LogError)) throw new Error(`${where}: a fault surfaced as a plain error, not a LogError: ${String((e as Error)?.stack ?? e)}`);
  assert.ok(FAULT_CODES.includes(e.code), `${where}: unexpected code ${e.code}: ${e.message}`);
  out.errors.push(`${where}: ${e.code}`);
}

/** Runs the workload in `logDir` (which may hold a log already: offsets continue from its end). */
export async function runWorkload(logDir: string, options: WorkloadOptions = OPTIONS): Promise<Outcome> {
  const out: Outcome = { appended: 0, acked: 0, shownDurable: 0, errors: [], failed: false };
  let p: Producer;
  try {
    p = await bounded(Producer.open({ logDir, ...options }), 'Producer.open');
  } catch (e) {
    expectFault(e, 'open', out);
    out.failed = true;
    return out;
  }
  out.appended = out.acked = out.shownDurable = p.nextOffset;
  const watch = (): void => { out.shownDurable = Math.max(out.shownDurable, p.durableOffset); };
  try {
    for (let i = 0; i < RECORDS; i++) {
      p.append(payload(p.nextOffset));
      out.appended = p.nextOffset;
      watch();
      if (i % FLUSH_EVERY === FLUSH_EVERY - 1) {
        const target = p.nextOffset;
        await bounded(p.flush(), 'flush');
        out.acked = Math.max(out.acked, target);
        watch();
      }
    }
  } catch (e) {
    expectFault(e, 'append/flush', out);
    out.failed = true;
  }
  if (out.failed) {
    // Terminal: the producer keeps refusing with a code, and never reports more records durable,
    // however the file layer behaves from now on (a transient fault has passed: a retried fsync
    // would succeed, and must not be trusted).
    const frozen = p.durableOffset;
    try { p.append('after-failure'); assert.unreachable('append after a failure must throw'); } catch (e) { expectFault(e, 'append after failure', out); }
    await bounded(p.flush(), 'flush after failure').then(() => assert.unreachable('flush after a failure must reject'), (e: unknown) => expectFault(e, 'flush after failure', out));
    await bounded(p.close(), 'close after failure').then(() => assert.unreachable('close after a failure must reject'), (e: unknown) => expectFault(e, 'close after failure', out));
    assert.is(p.durableOffset, frozen, 'durableOffset moved after the producer failed');
    watch();
    return out;
  }
  try {
    await bounded(p.close(), 'close');
    out.acked = out.appended;
    watch();
  } catch (e) {
    expectFault(e, 'close', out);
    out.failed = true;
    watch();
  }
  return out;
}

/**
 * Reopens without faults and checks: the log is a contiguous run of offsets from its start, every
 * payload is the one appended at that offset (no ghosts, no duplicates, no reordering), it ends at or
 * after every acknowledged record and at or before the last accepted one, and appending resumes.
 */
export async function verifyAfter(logDir: string, out: Outcome, label: string, options: WorkloadOptions = OPTIONS): Promise<number> {
  assert.ok(out.shownDurable <= out.acked || out.shownDurable <= out.appended, `${label}: durableOffset ${out.shownDurable} beyond the appended records ${out.appended}`);
  const q = await bounded(Producer.open({ logDir, ...options }), 'reopen');
  const end = q.nextOffset;
  assert.ok(end >= out.acked, `${label}: reopened with ${end} records, but ${out.acked} were acknowledged durable`);
  assert.ok(end >= out.shownDurable, `${label}: reopened with ${end} records, but durableOffset had shown ${out.shownDurable}`);
  assert.ok(end <= out.appended, `${label}: reopened with ${end} records, only ${out.appended} were appended`);
  q.append(payload(end));
  await bounded(q.flush(), 'flush after reopen');
  await bounded(q.close(), 'close after reopen');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    let expect = -1;
    for (const m of c.iter()) {
      if (expect < 0) expect = m.offset;
      assert.is(m.offset, expect, `${label}: offsets not contiguous`);
      assert.is(Buffer.from(m.data).toString(), payload(m.offset), `${label}: record ${m.offset} holds the wrong bytes`);
      expect++;
    }
    assert.is(expect, end + 1, `${label}: the log read back ends at ${expect}, the producer reopened at ${end} and appended one`);
  } finally {
    await c.close();
  }
  return end + 1;
}

/** The workload's read phase, in the fault window: a consumer reads everything; faults must be LogErrors. */
export async function readPhase(logDir: string, out: Outcome): Promise<void> {
  if (!existsSync(logDir)) return; // creating it failed: Producer.open reported that
  let c: Consumer;
  try {
    c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  } catch (e) {
    expectFault(e, 'consumer open', out);
    return;
  }
  try {
    let expect = -1;
    for (const m of c.iter()) {
      if (expect < 0) expect = m.offset;
      assert.is(m.offset, expect, 'a reader under faults skipped or repeated an offset');
      assert.is(Buffer.from(m.data).toString(), payload(m.offset), 'a reader under faults delivered wrong bytes');
      expect++;
    }
  } catch (e) {
    expectFault(e, 'consumer read', out);
  } finally {
    await c.close();
  }
}
