/**
 * Crash suite with 3 producer threads: a child process opens the log, shares its producer with 2 worker
 * threads (Producer.attach) and appends on the owner's handle too, each thread its own records tagged
 * (incarnation, thread, seq); it is SIGKILLed at a random moment, and the log reopened (recovery) and
 * read here, several incarnations per directory, under `always`, `periodic(20)` and `never`. Checks:
 * offsets dense from 0 to the recovered end; every record verifies (CRC, tag-derived payload); what a
 * check found is never changed by later incarnations, and what a new incarnation added starts where the
 * last check ended; per (incarnation, thread) the seqs are exactly 0..m in log order, and m is at least
 * the highest seq that thread reported durable after an awaited flush(). SEED=<n> replays a run.
 */
import * as assert from 'uvu/assert';
import { checkedTag } from './fixtures/oracle-record.mjs';
import { Producer, SyncPolicy } from '../dist/index.js';
import { Child, type ChildMessage } from './child.js';
import { prng, readRecords, suite, tempDir } from './kit.js';

const test = suite('crash-threads');
const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
const perPolicy = Number(process.env.CRASH_ITERATIONS ?? 4);
const THREADS = 3;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
console.log(`crash-threads seed=${seed}, ${perPolicy} kills per policy (replay: SEED=${seed} node --import tsx test/crash-threads.test.ts)`);
const stats = { kills: 0, allStarted: 0, killedInStartup: 0, recordsRead: 0, newRecords: 0, ackedVerified: 0, ackReports: 0, truncations: 0, threadSwitches: 0 };

test.after(() => {
  console.log(`crash-threads seed=${seed}: kills ${stats.kills} (${stats.allStarted} with all 3 threads started, ${stats.killedInStartup} before any record), records read ${stats.recordsRead}, `
    + `records the killed incarnations left in the log ${stats.newRecords}, acked records verified ${stats.ackedVerified} (from ${stats.ackReports} durable reports), `
    + `adjacent records of different threads ${stats.threadSwitches}, torn tails truncated ${stats.truncations}`);
});

interface Tag { inc: number; thread: number; seq: number }

/** The tag of a record written by test/fixtures/crash-threads-worker.mjs, or what is wrong with it. */
function decode(text: string): Tag | string {
  const checked = checkedTag(text);
  if (typeof checked === 'string') return checked;
  const [inc, thread, seq] = checked.numbers;
  const ch = ALPHABET[(inc * 7 + thread * 13 + seq) % 36]!;
  if (checked.payload !== ch.repeat(checked.payload.length)) return 'payload does not match its tag';
  return { inc, thread, seq };
}

/**
 * When to kill: `ms` after the fork (some land in startup, recovery and the workers' start), or `ms`
 * after all 3 threads reported 'started' (worker threads take 100 to 300 ms to start on a busy machine),
 * or after `reports` durable reports (made after all 3 started, unless timed from the fork), whichever
 * comes first.
 */
interface Run { fromFork: boolean; ms: number; reports: number }

function randomRun(rand: () => number, first: boolean): Run {
  const fromFork = !first && rand() < 0.25;
  return { fromFork, ms: Math.floor(fromFork ? rand() * 600 : 50 + rand() * 350), reports: rand() < 0.3 ? 1 + Math.floor(rand() * 30) : Infinity };
}

/** Resolves at the kill moment `run` chose (or when the child exits or reports an error first). */
function killMoment(child: Child, run: Run): Promise<void> {
  return new Promise((resolve) => {
    let reports = 0;
    const started = new Set<unknown>();
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => { clearTimeout(timer); child.proc.off('message', onMessage); resolve(); };
    const onMessage = (m: ChildMessage): void => {
      if (m.type === 'started' && started.add(m.thread).size === THREADS && !run.fromFork) { clearTimeout(timer); timer = setTimeout(done, run.ms); }
      const counted = m.type === 'durable' && (run.fromFork || started.size === THREADS);
      if ((counted && ++reports >= run.reports) || m.type === 'error') done();
    };
    child.proc.on('message', onMessage);
    // Threads not all started 20 s after the fork: killed, and the iteration fails.
    timer = setTimeout(done, run.fromFork ? run.ms : 20_000);
    void child.exited.then(done);
  });
}

/** One log directory, its incarnations, and what the last check found. */
class ThreadsDir {
  readonly dir = tempDir('rlog-crash-threads-');
  private inc = 0;
  /** The tags ("inc/thread/seq") of the records the last check read, in offset order. */
  private found: string[] = [];
  /** Highest seq reported durable per "inc/thread". */
  private readonly acked = new Map<string, number>();
  readonly threadsAcked = new Set<number>();
  private readonly roll: number;
  private readonly ringBytes: number;

  constructor(readonly policy: string, readonly rand: () => number) {
    this.roll = [2048, 4096, 16384][Math.floor(rand() * 3)]!;
    this.ringBytes = rand() < 0.5 ? 65536 : 1 << 20;
  }

  private childConfig(): string {
    const r = this.rand;
    return JSON.stringify({
      dir: this.dir, policy: this.policy, roll: this.roll, ringBytes: this.ringBytes, inc: this.inc,
      seed: Math.floor(r() * 2 ** 31), burstMax: 1 + Math.floor(r() * 30), flushChance: 0.2 + r() * 0.6,
    });
  }

  /** Fork, let it run, SIGKILL, then reopen and check. */
  async iteration(): Promise<void> {
    // The first incarnation of a directory always runs its 3 threads.
    const run = randomRun(this.rand, this.inc === 0);
    const child = Child.fork('crash-threads-producer.mjs', [this.childConfig()], { execArgv: [] });
    await killMoment(child, run);
    await child.kill();
    const errors = child.pending.filter((m) => m.type === 'error').map((m) => String(m.message));
    assert.is(child.exitInfo?.signal, 'SIGKILL', `incarnation ${this.inc} ended with ${JSON.stringify(child.exitInfo)}, not by SIGKILL: ${errors.join('; ')}\n${child.stderr}`);
    assert.equal(errors, [], `incarnation ${this.inc} reported errors`);
    stats.kills++;
    this.absorb(child, run);
    await this.check();
    this.inc++;
  }

  /** The child's reports: where it opened (exactly where the last check ended), and its acks. */
  private absorb(child: Child, run: Run): void {
    const opened = child.pending.find((m) => m.type === 'open');
    const started = child.pending.filter((m) => m.type === 'started').length;
    if (!run.fromFork) assert.is(started, THREADS, `incarnation ${this.inc}: threads that started appending within 20 s of the fork`);
    if (started === THREADS) stats.allStarted++;
    if (opened !== undefined) assert.is(opened.nextOffset, this.found.length, `incarnation ${this.inc} opened at ${String(opened.nextOffset)}, the last check found the log ending at ${this.found.length}`);
    for (const m of child.pending) {
      if (m.type !== 'durable') continue;
      assert.is(m.inc, this.inc, 'a durable report of this incarnation');
      const key = `${String(m.inc)}/${String(m.thread)}`;
      this.acked.set(key, Math.max(this.acked.get(key) ?? -1, m.seq as number));
      this.threadsAcked.add(m.thread as number);
      stats.ackReports++;
    }
  }

  /** Reopens the log as a restarted application would (recovery), reads it whole and checks it. */
  private async check(): Promise<void> {
    const p = await Producer.open({ logDir: this.dir, syncPolicy: SyncPolicy.never(), fileRollSize: this.roll, ringBytes: this.ringBytes });
    const end = p.nextOffset;
    if ((p.recovery.truncated?.bytes ?? 0) > 0) stats.truncations++;
    await p.close();
    const records = await readRecords(this.dir);
    assert.is(records.length, end, `read ${records.length} records, the recovered log ends at ${end}`);
    const tags = records.map((r, i) => {
      assert.is(r.offset, i, `offsets not dense from 0: ${r.offset} at position ${i}`);
      const tag = decode(r.text);
      if (typeof tag === 'string') assert.unreachable(`record at ${r.offset} does not verify: ${tag} (torn or garbled): ${JSON.stringify(r.text.slice(0, 40))}`);
      return tag as Tag;
    });
    this.checkKept(tags);
    this.checkNewIncarnation(tags);
    stats.recordsRead += records.length;
    stats.newRecords += records.length - this.found.length;
    if (records.length === this.found.length) stats.killedInStartup++;
    this.found = tags.map((t) => `${t.inc}/${t.thread}/${t.seq}`);
  }

  /** What the last check found is still there, unchanged, in place. */
  private checkKept(tags: Tag[]): void {
    assert.ok(tags.length >= this.found.length, `the log ends at ${tags.length}, below ${this.found.length} found by the last check`);
    this.found.forEach((f, i) => {
      const t = tags[i]!;
      if (`${t.inc}/${t.thread}/${t.seq}` !== f) assert.unreachable(`offset ${i} held ${f} at the last check, now ${t.inc}/${t.thread}/${t.seq}`);
    });
  }

  /** Past the old end only this incarnation's records: per thread seqs 0..m in order, m at least its acked seq. */
  private checkNewIncarnation(tags: Tag[]): void {
    const next = new Map<number, number>();
    for (let i = this.found.length; i < tags.length; i++) {
      const t = tags[i]!;
      assert.is(t.inc, this.inc, `offset ${i} holds a record of incarnation ${t.inc}, after the records of incarnation ${this.inc - 1} were checked (incarnation order)`);
      assert.ok(t.thread >= 0 && t.thread < THREADS, `offset ${i}: thread ${t.thread}`);
      const want = next.get(t.thread) ?? 0;
      if (t.seq !== want) assert.unreachable(`offset ${i} holds ${t.inc}/${t.thread}/${t.seq}, expected seq ${want} of that thread (${t.seq < want ? 'duplicate or reordered' : 'a gap: records skipped'})`);
      next.set(t.thread, want + 1);
      if (i > this.found.length && tags[i - 1]!.thread !== t.thread) stats.threadSwitches++;
    }
    for (let thread = 0; thread < THREADS; thread++) {
      const acked = this.acked.get(`${this.inc}/${thread}`);
      if (acked === undefined) continue;
      const kept = (next.get(thread) ?? 0) - 1;
      assert.ok(kept >= acked, `incarnation ${this.inc} thread ${thread}: seq ${acked} was acknowledged durable, the log holds only up to ${kept} (acked records lost)`);
      stats.ackedVerified += acked + 1;
    }
  }
}

['always', 'periodic:20', 'never'].forEach((policy, i) => {
  test(`3 producer threads SIGKILLed at random moments, ${policy}: no acked record lost, none torn, duplicated or skipped`, async () => {
    const rand = prng(seed * 31 + i);
    const d = new ThreadsDir(policy, rand);
    for (let k = 0; k < perPolicy; k++) await d.iteration();
    // Not vacuous: flush() acknowledgements came from the owner's thread and from both attached threads.
    assert.equal([...d.threadsAcked].sort(), [0, 1, 2], `threads that acknowledged records under ${policy} (seed ${seed})`);
  });
});

test.run();
