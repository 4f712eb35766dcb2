/**
 * Drives the crash oracle (test/oracle.ts) with real processes and files: forks producer and consumer
 * children, SIGKILLs them at random moments or lets a kill-at-io hook (test/fixtures/kill-at-io.mjs)
 * kill them at a targeted file operation, then reopens the log in this process and checks it.
 * Used by test/crash.test.ts, test/crash-points.test.ts and test/soak/crash.soak.ts.
 */
import * as assert from 'uvu/assert';
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child, type ChildMessage } from './child.js';
import { prng, tempDir } from './kit.js';
import { LogModel, type LogShape } from './oracle.js';

const HOOK = fileURLToPath(new URL('./fixtures/kill-at-io.mjs', import.meta.url));

/** See test/fixtures/kill-at-io.mjs. */
export interface KillSpec {
  readonly op: 'writev' | 'fdatasync' | 'fsync' | 'open' | 'unlink' | 'rename' | 'ftruncate';
  readonly file: 'seg' | 'idx' | 'cursor' | 'hint' | 'start' | 'dir' | 'any';
  readonly n: number;
  readonly mode: 'before' | 'after' | 'torn';
  readonly cut?: number;
  readonly flags?: string;
  readonly at0?: boolean;
}

export interface Point {
  readonly name: string;
  /** What the point needs: retention to delete segments, a torn tail left for recovery, a new cursor. */
  readonly needs?: 'retention' | 'torn-tail' | 'new-cursor' | 'index';
  readonly spec: (rand: () => number) => KillSpec;
}

const upTo = (rand: () => number, k: number): number => 1 + Math.floor(rand() * k);
const either = <T>(rand: () => number, a: T, b: T): T => (rand() < 0.5 ? a : b);

/** Targeted points in the producer's writer (and recovery). */
export const PRODUCER_POINTS: readonly Point[] = [
  { name: 'batch write torn', spec: (r) => ({ op: 'writev', file: 'seg', n: upTo(r, 8), mode: 'torn', cut: r() }) },
  { name: 'after write, before fsync', spec: (r) => ({ op: 'writev', file: 'seg', n: upTo(r, 8), mode: 'after' }) },
  { name: 'during fsync (before it)', spec: (r) => ({ op: 'fdatasync', file: 'seg', n: upTo(r, 6), mode: 'before' }) },
  { name: 'after fsync, before publish', spec: (r) => ({ op: 'fdatasync', file: 'seg', n: upTo(r, 6), mode: 'after' }) },
  { name: 'index write torn', needs: 'index', spec: (r) => ({ op: 'writev', file: 'idx', n: upTo(r, 3), mode: 'torn', cut: r() }) },
  { name: 'durable hint write torn', spec: (r) => ({ op: 'writev', file: 'hint', n: upTo(r, 6), mode: 'torn', cut: r() }) },
  { name: 'roll: new segment created, empty', spec: (r) => ({ op: 'open', file: 'seg', flags: 'wx', n: upTo(r, 3), mode: 'after' }) },
  { name: 'roll: new segment header torn', spec: (r) => ({ op: 'writev', file: 'seg', at0: true, n: upTo(r, 3), mode: 'torn', cut: r() }) },
  { name: 'roll: before directory fsync', spec: (r) => ({ op: 'fsync', file: 'dir', n: upTo(r, 3), mode: 'before' }) },
  { name: 'retention: unlink segment', needs: 'retention', spec: (r) => ({ op: 'unlink', file: 'seg', n: upTo(r, 3), mode: either(r, 'before', 'after') }) },
  // start.offset's first write is the writer's at start; the later ones are retention's new log start.
  { name: 'retention: start.offset write torn', needs: 'retention', spec: (r) => ({ op: 'writev', file: 'start', n: 1 + upTo(r, 3), mode: 'torn', cut: r() }) },
  { name: 'retention: start.offset written, segment not unlinked', needs: 'retention', spec: (r) => ({ op: 'writev', file: 'start', n: 1 + upTo(r, 3), mode: 'after' }) },
  { name: 'retention: segment gone, index not', needs: 'retention', spec: (r) => ({ op: 'unlink', file: 'idx', n: upTo(r, 3), mode: 'before' }) },
  { name: 'recovery: during tail truncation', needs: 'torn-tail', spec: (r) => ({ op: 'ftruncate', file: 'seg', n: 1, mode: either(r, 'before', 'after') }) },
];

/** Targeted points in a transactional consumer's cursor commit. */
export const CONSUMER_POINTS: readonly Point[] = [
  { name: 'cursor commit torn', spec: (r) => ({ op: 'writev', file: 'cursor', n: upTo(r, 12), mode: 'torn', cut: r() }) },
  { name: 'cursor commit before fsync', spec: (r) => ({ op: 'fdatasync', file: 'cursor', n: upTo(r, 12), mode: 'before' }) },
  { name: 'cursor commit after fsync', spec: (r) => ({ op: 'fdatasync', file: 'cursor', n: upTo(r, 12), mode: 'after' }) },
  { name: 'cursor creation rename', needs: 'new-cursor', spec: (r) => ({ op: 'rename', file: 'cursor', n: 1, mode: either(r, 'before', 'after') }) },
];

export interface CrashStats {
  kills: number;
  parentKills: number;
  selfKills: number;
  checks: number;
  lostRecords: number;
  maxLostAgeMs: number;
  truncations: number;
  points: Record<string, { tried: number; hit: number }>;
}

export function newStats(): CrashStats {
  return { kills: 0, parentKills: 0, selfKills: 0, checks: 0, lostRecords: 0, maxLostAgeMs: 0, truncations: 0, points: {} };
}

export function formatStats(s: CrashStats): string {
  const pts = Object.entries(s.points).map(([k, v]) => `${k} ${v.hit}/${v.tried}`).join('; ');
  return `kills ${s.kills} (parent ${s.parentKills}, targeted ${s.selfKills}), checks ${s.checks}, lost unacked records ${s.lostRecords}, `
    + `max lost age ${s.maxLostAgeMs} ms, torn tails truncated ${s.truncations}${pts ? `\n  points hit/tried: ${pts}` : ''}`;
}

/**
 * The slack over `ms` we allow periodic(ms) before calling a loss a rule-4 violation: one fsync on this
 * disk (measured: 3 times the slowest of 5 fdatasyncs of 64 KiB) plus 150 ms for scheduling on a busy
 * machine (the writer thread, the kill and the IPC all compete for two cores).
 */
export function lossWindowSlackMs(): number {
  const dir = tempDir('rlog-fsync-');
  const fd = openSync(join(dir, 'probe'), 'w');
  let worst = 0;
  try {
    for (let i = 0; i < 5; i++) {
      writeSync(fd, Buffer.alloc(65536, i));
      const t = performance.now();
      fdatasyncSync(fd);
      worst = Math.max(worst, performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  return Math.ceil(3 * worst) + 150;
}

function childEnv(point: KillSpec | undefined): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.REACTIVE_LOG_TEST_FILE_IO;
  delete env.REACTIVE_LOG_KILL_AT;
  if (point !== undefined) Object.assign(env, { REACTIVE_LOG_TEST_FILE_IO: HOOK, REACTIVE_LOG_KILL_AT: JSON.stringify(point) });
  return env;
}

export interface ProducerRun {
  /** SIGKILL this long after the fork (the fallback when a point is set). */
  readonly killAfterMs: number;
  /** ...or once this many bursts were reported, whichever comes first. */
  readonly killAfterReports?: number;
  readonly ack: 'flush' | 'poll' | 'mixed';
  readonly burstMax: number;
  readonly point?: KillSpec;
}

interface Started {
  readonly child: Child;
  /** Resolves with the kill time (null if the child died by itself first). */
  readonly killed: Promise<number | null>;
}

/** Forks a fixture and arranges its SIGKILL after `ms` or when `early` resolves. */
function startChild(fixture: string, args: string[], point: KillSpec | undefined, ms: number, early?: Promise<void>): Started {
  const child = Child.fork(fixture, args, { execArgv: [], env: childEnv(point) });
  const killed = (async () => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([child.exited, new Promise((r) => { timer = setTimeout(r, ms); }), early ?? new Promise(() => undefined)]);
    clearTimeout(timer);
    if (child.exitInfo !== null) return null;
    const at = Date.now();
    await child.kill();
    return at;
  })();
  return { child, killed };
}

function assertKilled(child: Child, what: string): void {
  const errors = child.pending.filter((m) => m.type === 'error').map((m) => String(m.message));
  assert.is(child.exitInfo?.signal, 'SIGKILL', `${what} ended with ${JSON.stringify(child.exitInfo)}, not by SIGKILL: ${errors.join('; ')}\n${child.stderr}`);
}

/** One log directory under crash test: its model, its shape, and the children that write and read it. */
export class CrashDir {
  readonly model: LogModel;
  private inc = 0;
  readonly windowMs: number | null;

  private constructor(readonly dir: string, readonly shape: LogShape, readonly rand: () => number, readonly stats: CrashStats, slackMs: number) {
    this.model = new LogModel(Math.floor(rand() * 1e9));
    const [kind, ms] = shape.policy.split(':');
    this.windowMs = kind === 'periodic' ? Number(ms) + slackMs : null;
  }

  /** A fresh directory, created and checked empty. */
  static async create(shape: LogShape, seed: number, stats: CrashStats, slackMs: number): Promise<CrashDir> {
    const d = new CrashDir(tempDir('rlog-crash-'), shape, prng(seed), stats, slackMs);
    await d.model.check(d.dir, shape, null, null);
    return d;
  }

  private producerArgs(run: ProducerRun): string[] {
    const seed = Math.floor(this.rand() * 2 ** 31);
    return [JSON.stringify({ dir: this.dir, run: this.model.run, inc: this.inc++, ...this.shape, burstMax: run.burstMax, ack: run.ack, seed })];
  }

  private startProducer(run: ProducerRun): Started & { inc: number } {
    const inc = this.inc;
    let reports = 0;
    let reached: () => void = () => undefined;
    const early = new Promise<void>((r) => { reached = r; });
    const s = startChild('crash-producer.mjs', this.producerArgs(run), run.point, run.killAfterMs, early);
    if (run.killAfterReports !== undefined) {
      s.child.proc.on('message', (m: ChildMessage) => {
        if (m.type === 'appended' && ++reports >= run.killAfterReports!) reached();
      });
    }
    return { ...s, inc };
  }

  /** Feeds what a dead producer child reported into the model. */
  private absorb(child: Child, inc: number): void {
    let it = null;
    for (const m of child.pending) {
      if (m.type === 'open') it = this.model.begin(inc, m.nextOffset as number);
      else if (it !== null && m.type === 'appended') {
        it.reports.push({ from: m.from as number, to: m.to as number, t0: m.t0 as number, t1: m.t1 as number });
        it.acked = Math.max(it.acked, m.durable as number);
      } else if (it !== null && m.type === 'durable') it.acked = Math.max(it.acked, m.offset as number);
    }
  }

  private count(killedAt: number | null, point: { name: string } | undefined): void {
    this.stats.kills++;
    if (killedAt !== null) this.stats.parentKills++;
    else this.stats.selfKills++;
    if (point !== undefined) {
      const p = (this.stats.points[point.name] ??= { tried: 0, hit: 0 });
      p.tried++;
      if (killedAt === null) p.hit++;
    }
  }

  private async checkNow(killedAt: number | null, keepOpen = false) {
    const r = await this.model.check(this.dir, this.shape, killedAt, this.windowMs, keepOpen);
    this.stats.checks++;
    this.stats.lostRecords += r.lost;
    if (r.lostAgeMs !== null) this.stats.maxLostAgeMs = Math.max(this.stats.maxLostAgeMs, r.lostAgeMs);
    if (r.truncatedBytes > 0) this.stats.truncations++;
    return r;
  }

  /** One producer incarnation: fork, let it run, kill (or be killed at the point), then reopen and check. */
  async producerIteration(run: ProducerRun, pointName?: string, check = true): Promise<boolean> {
    const { child, killed, inc } = this.startProducer(run);
    const killedAt = await killed;
    assertKilled(child, 'the producer child');
    this.absorb(child, inc);
    this.count(killedAt, pointName === undefined ? undefined : { name: pointName });
    if (check) await this.checkNow(killedAt);
    return killedAt === null;
  }

  /**
   * A producer and a transactional consumer (clientTx `id`, committing { count, sum, crc } with every
   * record, in groups of `everyRecords`) run side by side; both are SIGKILLed, the consumer perhaps at
   * a cursor point. Then the log is checked, and the cursor and its state against the log.
   */
  async consumerIteration(id: string, everyRecords: number, consumerKillMs: number, run: ProducerRun, point?: { name: string; spec: KillSpec }): Promise<void> {
    // The producer gets at least 300 ms: startup alone takes 100 to 200 ms on a busy machine, and a
    // consumer with nothing durable to read would test little.
    const prod = this.startProducer({ ...run, killAfterMs: 300 + run.killAfterMs });
    const cons = startChild('tx-consumer.mjs', [this.dir, id, String(everyRecords), 'oracle-blocking'], point?.spec, consumerKillMs);
    const [prodKilledAt, consKilledAt] = await Promise.all([prod.killed, cons.killed]);
    assertKilled(prod.child, 'the producer child');
    assertKilled(cons.child, 'the consumer child');
    this.absorb(prod.child, prod.inc);
    this.count(prodKilledAt, undefined);
    this.count(consKilledAt, point);
    const r = await this.checkNow(prodKilledAt, true);
    try {
      await this.model.checkCursor(this.dir, id);
    } finally {
      await r.producer!.close();
    }
  }

  /** Rule 6, the end: a consumer left to finish has applied every record of the log exactly once. */
  async drainConsumer(id: string): Promise<void> {
    const child = Child.fork('tx-consumer.mjs', [this.dir, id, '1', 'oracle'], { execArgv: [], env: childEnv(undefined) });
    try {
      const done = await child.next<{ type: string; state: unknown }>('done', 60_000);
      const n = this.model.end;
      assert.equal(done.state, { count: n, sum: (n * (n + 1)) / 2, crc: this.model.crcOfFirst(n) }, 'the consumer applied every record exactly once (rule 6)');
    } finally {
      await child.kill();
    }
  }
}

/** A random producer run for `shape`: a kill time (from the fork, so some land in startup and recovery), bursts, acks. */
export function randomRun(rand: () => number, shape: LogShape): ProducerRun {
  const periodic = shape.policy.startsWith('periodic');
  // Under periodic the run must outlast the loss window now and then, or rule 4 could not fail.
  const killAfterMs = Math.floor(rand() * (periodic ? 900 : 350));
  const ack = periodic ? either(rand, 'poll' as const, 'mixed' as const) : (['flush', 'poll', 'mixed'] as const)[Math.floor(rand() * 3)]!;
  return { killAfterMs, killAfterReports: rand() < 0.3 ? upTo(rand, 20) : undefined, ack, burstMax: upTo(rand, 60) };
}

/** The sync policies and log shapes the suites cycle through. */
export const POLICIES = ['always', 'periodic:25', 'everyBytes:4096', 'never'] as const;

export function shapeFor(policy: string, rand: () => number, retention: boolean): LogShape {
  const roll = [2048, 4096, 16384][Math.floor(rand() * 3)]!;
  return {
    policy,
    roll,
    maxTotalBytes: retention ? roll * 3 : null,
    maxFileAge: retention && rand() < 0.3 ? 200 : null,
    ringBytes: rand() < 0.5 ? 65536 : 1 << 20,
    indexIntervalBytes: [512, 1024, 65536][Math.floor(rand() * 3)]!,
  };
}

/** A producer run that waits for a targeted point (SIGKILL after 4 s if it is never reached). */
export function pointRun(rand: () => number, spec: KillSpec): ProducerRun {
  return { killAfterMs: 2000, ack: (['flush', 'poll', 'mixed'] as const)[Math.floor(rand() * 3)]!, burstMax: upTo(rand, 40), point: spec };
}

/**
 * One targeted producer kill at `point`; returns whether the point was reached. For recovery's
 * truncation a torn batch write is arranged first (not checked, so that its torn tail is still there
 * when the next child's recovery truncates it).
 */
export async function producerPointIteration(d: CrashDir, point: Point, rand: () => number): Promise<boolean> {
  if (point.needs === 'torn-tail') {
    const tear: KillSpec = { op: 'writev', file: 'seg', n: upTo(rand, 4), mode: 'torn', cut: rand() };
    const torn = await d.producerIteration(pointRun(rand, tear), 'torn tail (setup for recovery)', false);
    if (!torn) {
      await d.model.check(d.dir, d.shape, null, null);
      return false;
    }
  }
  return d.producerIteration(pointRun(rand, point.spec(rand)), point.name);
}

/** A shape a point can be reached in: retention points need it, the rest get it now and then. */
export function shapeForPoint(point: Point, rand: () => number): LogShape {
  const policy = POLICIES[Math.floor(rand() * POLICIES.length)]!;
  const shape = shapeFor(policy, rand, point.needs === 'retention' || (point.needs === undefined && rand() < 0.3));
  // Index entries are written every indexIntervalBytes: make them frequent, in segments big enough to hold some.
  return point.needs === 'index' ? { ...shape, roll: 16384, indexIntervalBytes: 512 } : shape;
}
