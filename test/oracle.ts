/**
 * The crash oracle of docs/reliability.md: a model of what a log directory must hold after any number
 * of SIGKILLed producer incarnations, and the checks a test runs after each kill.
 *
 * Each incarnation appends records tagged (run, incarnation, seq) with seq counting from 0, and reports
 * where it started (its recovered nextOffset), what it appended when, and which offsets were
 * acknowledged durable. Since offsets are dense and every incarnation appends in order, the record at
 * any offset is known exactly: the one of the newest incarnation that started at or below it. Checking
 * every stored record against that covers rules 1 to 3 at once; rule 4 (periodic's loss window), rule
 * 5 (cursor sanity) and rule 6 (consumer exactly-once) have their own checks below.
 */
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { decodeRecord, encodeRecord } from './fixtures/oracle-record.mjs';

/** One burst the child reported: records [from, to) were appended between t0 and t1 (Date.now()). */
export interface AppendReport {
  readonly from: number;
  readonly to: number;
  readonly t0: number;
  readonly t1: number;
}

export interface Incarnation {
  readonly inc: number;
  readonly start: number;
  /** Every offset below this was acknowledged durable to the parent. */
  acked: number;
  readonly reports: AppendReport[];
}

/** How the log is opened, by children and by the checks (so the parent's reopen is a real restart). */
export interface LogShape {
  readonly policy: string; // always | never | periodic:<ms> | everyBytes:<n>
  readonly roll: number;
  readonly maxTotalBytes: number | null;
  readonly maxFileAge: number | null;
  readonly ringBytes: number;
  readonly indexIntervalBytes: number;
}

export interface CheckResult {
  readonly end: number;
  readonly logStart: number;
  /** Records appended (and reported) but not in the log after the crash. */
  readonly lost: number;
  /** For a parent kill under periodic with loss: ms between the oldest lost record's burst and the kill. */
  readonly lostAgeMs: number | null;
  readonly truncatedBytes: number;
}

export class LogModel {
  readonly incs: Incarnation[] = [];
  /** The log end found by the last check (or the last incarnation's start when unchecked since). */
  end = 0;
  logStart = 0;
  /** False after an incarnation that was not followed by a check. */
  private checked = true;
  /** crcChain[k] = CRC-32 over the bytes of records 0 .. k-1 in order, for records already checked. */
  private readonly crcChain: number[] = [0];

  /** The committed offset each cursor had at the last check: a cursor never moves backwards. */
  private readonly cursorsSeen = new Map<string, number>();

  constructor(readonly run: number) {}

  /** A child opened the log at `start`: after a check nothing may have changed; else no acked record may be gone. */
  begin(inc: number, start: number): Incarnation {
    if (this.checked) assert.is(start, this.end, `incarnation ${inc} opened at ${start}, the last check found the log ending at ${this.end}`);
    const prev = this.incs[this.incs.length - 1];
    if (prev !== undefined) assert.ok(start >= prev.acked, `incarnation ${inc} opened at ${start}, below ${prev.acked} acknowledged durable by incarnation ${prev.inc} (rule 1)`);
    const it: Incarnation = { inc, start, acked: start, reports: [] };
    this.incs.push(it);
    this.end = start;
    this.checked = false;
    return it;
  }

  /** The bytes offset `offset` must hold. */
  expectedAt(offset: number): Buffer {
    for (let i = this.incs.length - 1; i >= 0; i--) {
      const it = this.incs[i]!;
      if (it.start <= offset) return encodeRecord(this.run, it.inc, offset - it.start);
    }
    throw new Error(`no incarnation wrote offset ${offset}`);
  }

  /** CRC-32 chained over records 0 .. n-1 (n at most the checked end). */
  crcOfFirst(n: number): number {
    assert.ok(n <= this.end, `crc asked up to ${n}, the log ends at ${this.end}`);
    while (this.crcChain.length <= n) {
      const k = this.crcChain.length - 1;
      this.crcChain.push(crc32(this.expectedAt(k), this.crcChain[k]!));
    }
    return this.crcChain[n]!;
  }

  /**
   * Reopens the log the way a restarted application would (Producer.open runs recovery), reads every
   * stored record and checks rules 1 to 4. `killedAt`: when the parent sent SIGKILL (null when the
   * child killed itself at a targeted point). Leaves the producer open for cursor checks if asked.
   */
  async check(dir: string, shape: LogShape, killedAt: number | null, windowMs: number | null, keepOpen = false): Promise<CheckResult & { producer: Producer | null }> {
    // Retention off here: the writer applies it as it starts, so the log start read below could move
    // before the reader opens (a first soak run failed that way: a start of 18475, a first record of
    // 18485). The children exercise retention; this reopen only recovers and reads.
    const p = await Producer.open({
      logDir: dir, syncPolicy: SyncPolicy.never(), fileRollSize: shape.roll, maxTotalBytes: null,
      maxFileAge: null, ringBytes: shape.ringBytes, indexIntervalBytes: shape.indexIntervalBytes,
    });
    try {
      const end = p.nextOffset;
      const logStart = p.logStartOffset;
      // Recovery leaves nothing of an interrupted roll or retention behind.
      const names = readdirSync(dir);
      const leftovers = names.filter((n) => n.endsWith('.seg.new') || (n.endsWith('.idx') && !names.includes(n.replace(/\.idx$/, '.seg'))));
      assert.equal(leftovers, [], 'recovery left an unfinished segment or an index without its segment');
      const last = this.incs[this.incs.length - 1];
      // Rule 1: nothing acknowledged durable is missing (retention may only have removed a prefix).
      for (const it of this.incs) assert.ok(end >= it.acked, `log ends at ${end}, but incarnation ${it.inc} had ${it.acked} acknowledged durable (rule 1)`);
      assert.ok(end >= this.end, `log ends at ${end}, below ${this.end} found before (rule 1)`);
      assert.ok(logStart >= this.logStart && logStart <= end, `log start ${logStart} (before ${this.logStart}) outside [.., ${end}]`);
      // Rules 2 and 3: every stored record verifies and is exactly the one the model puts at its offset.
      const c = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.oldest()) });
      let next = logStart;
      try {
        for (const m of c.iter()) {
          assert.is(m.offset, next, `offsets not contiguous: ${m.offset} after ${next - 1} (rule 3)`);
          const tag = decodeRecord(m.data);
          if (typeof tag === 'string') assert.unreachable(`record at ${m.offset} does not verify: ${tag} (rule 2)`);
          const want = this.expectedAt(m.offset);
          if (!want.equals(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength))) {
            assert.unreachable(`offset ${m.offset} holds ${JSON.stringify(tag)}, expected ${want.toString('latin1', 0, 30)}... (rule 3: duplicate, reorder or not a prefix)`);
          }
          if ((tag as { run: number }).run !== this.run) assert.unreachable(`record at ${m.offset} is from run ${(tag as { run: number }).run}`);
          next++;
        }
      } finally {
        await c.close();
      }
      assert.is(next, end, `read ${next - logStart} records from ${logStart}, the log claims to end at ${end}`);

      // Rule 4: under periodic(ms), what was lost was appended within the last ms plus one fsync.
      let lost = 0;
      let lostAgeMs: number | null = null;
      if (last !== undefined && !this.checked) {
        const reported = last.reports.length > 0 ? last.reports[last.reports.length - 1]!.to : last.start;
        lost = Math.max(0, reported - end);
        const firstLost = last.reports.find((r) => r.from <= end && end < r.to);
        if (firstLost !== undefined && killedAt !== null && windowMs !== null) {
          lostAgeMs = killedAt - firstLost.t0;
          assert.ok(lostAgeMs <= windowMs,
            `lost records from offset ${end} were appended ${lostAgeMs} ms before the kill, beyond the loss window of ${windowMs} ms (rule 4)`);
        }
      }
      this.end = end;
      this.logStart = logStart;
      this.checked = true;
      const truncatedBytes = p.recovery.truncated?.bytes ?? 0;
      if (keepOpen) return { end, logStart, lost, lostAgeMs, truncatedBytes, producer: p };
      await p.close();
      return { end, logStart, lost, lostAgeMs, truncatedBytes, producer: null };
    } catch (e) {
      await p.close().catch(() => undefined);
      throw e;
    }
  }

  /**
   * Rules 5 and 6 for a clientTx cursor whose consumer committed { count, sum, crc } with every record:
   * the cursor opens (never torn, never past the end, never behind where it was), and its state is
   * exactly the records below it, each once. Opened in this process, next to the producer the check left open.
   */
  async checkCursor(dir: string, id: string): Promise<number> {
    const c = await Consumer.open({ logDir: dir, style: ConsumerStyle.clientTx(id) });
    try {
      const at = c.committedOffset!;
      assert.ok(at <= this.end, `cursor ${id} at ${at}, past the log end ${this.end} (rule 5)`);
      const before = this.cursorsSeen.get(id) ?? 0;
      assert.ok(at >= before, `cursor ${id} at ${at}, behind ${before} found committed before: a crash moved it backwards (rule 5)`);
      this.cursorsSeen.set(id, at);
      const state = c.state === null ? { count: 0, sum: 0, crc: 0 } : JSON.parse(Buffer.from(c.state).toString()) as { count: number; sum: number; crc: number };
      assert.equal(state, { count: at, sum: (at * (at + 1)) / 2, crc: this.crcOfFirst(at) },
        `cursor ${id} at ${at}: its committed state is not records 0..${at - 1} each once (rule 6)`);
      return at;
    } finally {
      await c.close();
    }
  }
}
