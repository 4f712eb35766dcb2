/**
 * `reactive-log bench <dir> [--seconds s] [--size bytes] [--json]`: the sync policies on the disk under
 * `dir`, side by side with what that disk can do, so that a user picks a policy from figures. Runs in
 * a fresh folder inside `dir`, removed at the end, also when SIGINT (exit code 130) or SIGTERM (exit
 * code 143) stops it; `dir` itself is not changed.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LogError, isLogError } from '../errors.js';
import { Producer } from '../producer/producer.js';
import { SyncPolicy } from '../producer/options.js';
import { fileIO } from '../storage/file-io.js';
import { refuseInsideLog } from '../storage/log-dir.js';
import { ProbeStopped, probeDisk, type DiskLimits } from './disk-probe.js';
import { EXIT_INTERRUPTED, UsageError, helped, message, out, parse, positionals, wholeNumber, type Command } from './common.js';

/** The exit code after SIGTERM stopped the bench (128 + 15, as a process the signal ends). */
const EXIT_TERMINATED = 143;

const POLICIES: ReadonlyArray<readonly [string, SyncPolicy]> = [
  ['always', SyncPolicy.always()],
  ['periodic(100)', SyncPolicy.periodic(100)],
  ['everyBytes(1 MiB)', SyncPolicy.everyBytes(1024 * 1024)],
  ['never', SyncPolicy.never()],
];

/** One policy's figures. */
export interface PolicyFigures {
  readonly policy: string;
  /** Appends per second, pipelined (no wait between appends), up to a flush that covers the last. */
  readonly appendsPerSec: number;
  /** Appends and their records' bytes per second, over the disk's buffered write rate. */
  readonly xBuffered: number;
  /** One append then `await flush()`, one at a time: the median time to a durable acknowledgement, µs. */
  readonly flushP50Us: number;
  /** That median over the disk's median write + fdatasync. */
  readonly xFsync: number;
}

export interface BenchReport {
  readonly dir: string;
  readonly recordBytes: number;
  readonly seconds: number;
  readonly disk: DiskLimits;
  readonly policies: PolicyFigures[];
}

export const benchCommand: Command = {
  name: 'bench',
  usage: `reactive-log bench <dir> [--seconds s] [--size bytes] [--json]
  Measure each sync policy on the disk under <dir> (always, periodic(100), everyBytes(1 MiB),
  never) beside that disk's own limits: appends per second, pipelined, and the time from an
  append to its durable acknowledgement (flush). Works in a temporary folder inside <dir>,
  removed at the end, also when Ctrl-C (exit code ${EXIT_INTERRUPTED}) or SIGTERM (exit code
  ${EXIT_TERMINATED}) stops it.
  --seconds s       how long each measurement runs (default 2)
  --size bytes      record size (default 100)
  --json            print the report as JSON`,
  async run(args) {
    const { values, positionals: got } = parse(args, { seconds: { type: 'string' }, size: { type: 'string' }, json: { type: 'boolean' } });
    if (await helped(this, values)) return 0;
    const [dirArg] = positionals(got, ['dir']);
    const dir = resolve(dirArg!);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dirArg} is not a directory`);
    await refuseLogDir(dir, dirArg!);
    const seconds = values.seconds === undefined ? 2 : secondsOf(values.seconds);
    const size = values.size === undefined ? 100 : wholeNumber('--size', values.size, 1);
    if (size > 1024 * 1024) throw new UsageError('--size takes at most 1,048,576 bytes');
    const report = await runBench(dir, seconds, size);
    if (typeof report === 'number') return report;
    await out(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatBench(report));
    return 0;
  },
};

/**
 * A usage error, before anything is written, when `dir` is a log directory or lies in one: the bench
 * makes logs of its own in a folder of `dir`, which a log's directory must not hold (refuseInsideLog).
 */
async function refuseLogDir(dir: string, dirArg: string): Promise<void> {
  try {
    refuseInsideLog(await fileIO(), join(dir, 'reactive-log-bench'), dirArg);
  } catch (e) {
    if (!isLogError(e)) throw e;
    throw new UsageError(`${dirArg} is a log directory or lies in one: the bench makes logs of its own in a folder of <dir>, which a log's directory must not hold; give another directory on the same disk`);
  }
}

function secondsOf(text: string): number {
  const s = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : NaN;
  if (!(s >= 0.05 && s <= 600)) throw new UsageError(`--seconds takes a number from 0.05 to 600, got ${JSON.stringify(text)}`);
  return s;
}

/** The report, or the exit code when SIGINT or SIGTERM stopped the bench (its folder removed). */
async function runBench(dir: string, seconds: number, size: number): Promise<BenchReport | number> {
  let signal: NodeJS.Signals | null = null;
  const onSignal = (s: NodeJS.Signals): void => { signal ??= s; };
  const stopped = (): boolean => signal !== null;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let work: string;
  try {
    work = mkdtempSync(join(dir, 'reactive-log-bench-'));
  } catch (e) {
    throw LogError.fromSystem(e, 'making the bench folder', dir);
  }
  try {
    progress('the disk: write + fdatasync, and buffered writes');
    const disk = await probeDisk(work, seconds * 1000, stopped);
    const policies: PolicyFigures[] = [];
    for (const [name, policy] of POLICIES) {
      if (stopped()) throw new ProbeStopped('stopped');
      progress(name);
      policies.push(await measurePolicy(join(work, name.replace(/[^a-z]/gi, '')), name, policy, seconds, size, disk, stopped));
    }
    return { dir, recordBytes: size, seconds, disk, policies };
  } catch (e) {
    // The probes write with node:fs: a system error is coded here (ERR_IO, ERR_DISK_FULL), as the
    // library codes its own, so the message ends with the code as every exit-1 message does.
    if (!(e instanceof ProbeStopped)) throw LogError.fromSystem(e, 'measuring the disk', work);
    message(`reactive-log bench: stopped by ${String(signal)}; no figures`);
    return signal === 'SIGINT' ? EXIT_INTERRUPTED : EXIT_TERMINATED;
  } finally {
    rmSync(work, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function progress(what: string): void {
  if (process.stderr.isTTY === true) message(`bench: ${what}...`);
}

async function measurePolicy(logDir: string, name: string, syncPolicy: SyncPolicy, seconds: number, size: number, disk: DiskLimits, stopped: () => boolean): Promise<PolicyFigures> {
  const p = await Producer.open({ logDir, syncPolicy, maxTotalBytes: null });
  try {
    const record = Buffer.alloc(size, 0x72);
    let n = 0;
    const t0 = performance.now();
    const until = t0 + seconds * 1000;
    while (performance.now() < until) {
      await p.writable({ bytes: size }); // on the event loop: a slow policy never blocks it
      if (stopped()) throw new ProbeStopped('stopped');
      for (let i = 0; i < 1000; i++) p.append(record);
      n += 1000;
    }
    await p.flush();
    const appendsPerSec = n / ((performance.now() - t0) / 1000);
    const times: number[] = [];
    const until2 = performance.now() + Math.min(seconds, 2) * 500;
    while (performance.now() < until2 || times.length < 5) {
      const a = performance.now();
      p.append(record);
      await p.flush();
      times.push((performance.now() - a) * 1000);
      if (stopped()) throw new ProbeStopped('stopped');
    }
    times.sort((a, b) => a - b);
    const flushP50Us = times[times.length >> 1]!;
    return { policy: name, appendsPerSec, xBuffered: (appendsPerSec * (size + 4)) / disk.bufferedBytesPerSec, flushP50Us, xFsync: flushP50Us / disk.fsyncP50Us };
  } finally {
    await p.close();
  }
}

function formatBench(r: BenchReport): string {
  const num = (v: number, d = 0): string => v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    `disk under ${r.dir}:`,
    `  write + fdatasync (104 B)   ${num(r.disk.fsyncsPerSec)} /s, median ${num(r.disk.fsyncP50Us)} µs`,
    `  buffered writes (1 MiB)     ${num(r.disk.bufferedBytesPerSec / 2 ** 20)} MiB/s`,
    '',
    `records of ${num(r.recordBytes)} B, ${num(r.seconds, 2)} s per measurement:`,
    `  ${'policy'.padEnd(20)}${'appends/s'.padStart(14)}${'x buffered'.padStart(12)}${'append+flush p50'.padStart(19)}${'x fdatasync'.padStart(13)}`,
    ...r.policies.map((p) => `  ${p.policy.padEnd(20)}${num(p.appendsPerSec).padStart(14)}${`${num(p.xBuffered, 2)}x`.padStart(12)}${`${num(p.flushP50Us)} µs`.padStart(19)}${`${num(p.xFsync, 2)}x`.padStart(13)}`),
    '',
    'x buffered: the record bytes appended per second over the disk\'s buffered write rate.',
    'x fdatasync: an append awaited to its flush over one write + fdatasync of the disk.',
    'What each policy keeps after a power loss: docs/durability.md.',
  ];
  return `${lines.join('\n')}\n`;
}
