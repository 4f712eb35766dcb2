#!/usr/bin/env node
// Runs every test/*.test.ts file in its own Node process, so that a worker, a lock or a child process
// left behind by one file cannot disturb the next. The files are compiled first, one bundle each, into
// test-dist/ (scripts/build-tests.mjs) and run in plain `node`: tsx's loader in every process would
// cost each file a third of a second of CPU or more. TEST_TSX=1 runs the sources through tsx instead. Prints each file's uvu output when
// the file ends and a closing line "N passed, N failed". `--soak` runs test/soak/*.soak.ts instead;
// `--filter x` runs matching files.
//
// Files run TEST_LANES at a time (default 2: the machine the suite is sized for has two cores; 1 runs
// them one by one), and beside them, with two lanes or more, one file that mostly waits (WAITING). The
// files that start nats-server (the JetStream and conformance files) run afterwards, with none of the
// other files beside them: they time leases, renewals and rides through outages, which the CPU-bound
// files (crash, fault and property suites) could starve. Those of one server run TEST_LANES + 2 at a
// time among themselves (they mostly wait on the server and on their timers, and give their handles
// leases of 5 s or more unless a case times a takeover; each starts its own server on a port probed
// free, and tries another port when the bind loses a race: test/nats-kit.ts); the ones of a 3-node
// cluster (ALONE) run last with no other file beside them, since leader elections on two cores are the
// most easily starved: two at a time, as each starts a cluster of its own and mostly waits on it (two
// clusters use about a fifth of the two cores). Soak files run one by one and stream their output.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTests } from './build-tests.mjs';

const args = process.argv.slice(2);
const soak = args.includes('--soak');
const filterAt = args.indexOf('--filter');
const filter = filterAt >= 0 ? args[filterAt + 1] : undefined;
const passThrough = soak ? args.filter((a, i) => a !== '--soak' && i !== filterAt && i !== filterAt + 1) : [];
const lanes = soak ? 1 : Math.max(1, Number(process.env.TEST_LANES ?? 2) || 1);
/** The files with a server of their own (see the header); TEST_LANES=1 runs them one by one too. */
const serverLanes = lanes === 1 ? 1 : lanes + 2;
/** The files of a 3-node cluster (see the header). */
const aloneLanes = lanes === 1 ? 1 : 2;

/** Files that start nats-server, and of those the ones that run with nothing beside them (see the header). */
const SERVERS = /(^|[\\/])(jetstream|conformance)-/;
const ALONE = /(^|[\\/])jetstream-cluster/;
/**
 * The longest files start first, longest first (as measured on the 2-core machine), so that the short
 * ones fill the lanes at the end. A name matches a file whose path contains it: `/crash.test` is
 * test/crash.test.ts and not test/batch-crash.test.ts.
 */
const LONG_FIRST = [
  'power-loss', 'crash-points', 'funnel-busy-owner', 'fault-loop', 'corruption-open', '/tx.test', '/crash.test', 'pool-faults',
  'crash-threads', '/pool.test', 'cli-tail-follow-startup', 'readers-verify', 'corruption-recover', 'exit-hook-failure', 'exit-several-producers', 'exit-clock-step', 'exit-bound-keeps-lock', 'locks',
  'pool-dead-letter-held-headers', 'types-configs', '/verify.test', '/funnel.test', '/cli.test', 'time-seek-property',
  'jetstream-lease', 'jetstream-pool-rerun', 'jetstream-consumer-ride', 'jetstream-pool-takeover', 'jetstream-dedup-open-slow-link',
  'jetstream-pool-feeder', 'conformance-pool', 'conformance-kill', 'jetstream-backend',
];
/**
 * Files that mostly wait (a child's exit bound, a lease, a timer of the product measured in seconds):
 * their CPU is about half their wall time or less on the 2-core machine (the CPU column this runner
 * prints). With two lanes or more they run in a lane of their own beside the others, which take from
 * this list too once theirs is empty: beside the CPU-bound files they cost the cores little, and
 * waited for one after another in those lanes they held a core's lane idle for minutes. Matched as
 * LONG_FIRST is, by a part of the path.
 */
const WAITING = [
  'retention-cursor-race', '/destroy.test', 'writable.test', 'attached-closed-dead-holder', '/events.test', 'recovery-retention-kept-start', 'exit-several-producers', 'cli-tail-follow-startup', 'exit-hook-failure', 'exit-clock-step',
  'funnel-frozen-owner', 'exit-bound-keeps-lock', 'time-seek-retention-race', 'funnel-connection', 'funnel-full-owner',
  'cursor-admin-from-under-lock', 'recovering-stale-lock', 'lag-watch-errors', 'seek-published-end', 'time-seek-in-flight',
  'flush-signal', 'lag-event-restart', 'lag-event-close', 'cursor-open-handover', 'flush-abort-exit', 'lag-event-cursor-id',
  'time-seek-unwritten', 'funnel-flush-retention', 'lock-created-race', 'pool-close-stop',
  'funnel-busy-owner', 'pool-import-relaunch-bound', 'funnel-limits', '/retention.test', 'shared-producer-full',
  'pool-import-hang', 'latest-past-lost-records', 'clock-step-back', 'pool-close-long-timeout',
  '/verify.test', 'time-seek-property', 'pool-import-bound', 'whence-latest-retention-race', 'lock-look-open',
];
const waits = (f) => WAITING.some((n) => f.replaceAll('\\', '/').includes(n));
const rank = (f) => {
  const i = LONG_FIRST.findIndex((n) => f.replaceAll('\\', '/').includes(n));
  return i < 0 ? LONG_FIRST.length : i;
};

const dirs = soak ? ['test/soak'] : ['test'];
const files = dirs.flatMap((d) =>
  readdirSync(d)
    .filter((f) => (soak ? f.endsWith('.soak.ts') : f.endsWith('.test.ts')))
    .filter((f) => (filter ? f.includes(filter) : true))
    .sort()
    .map((f) => join(d, f)),
);
const shared = files.filter((f) => soak || !SERVERS.test(f)).sort((a, b) => rank(a) - rank(b));
const servers = files.filter((f) => !soak && SERVERS.test(f) && !ALONE.test(f)).sort((a, b) => rank(a) - rank(b));
const alone = files.filter((f) => !soak && ALONE.test(f));

const viaTsx = process.env.TEST_TSX === '1';
/** What each file runs as: its bundle, or the source through tsx. */
const runnable = new Map();
if (!viaTsx) {
  const t0 = Date.now();
  const built = await buildTests(files);
  files.forEach((f, i) => runnable.set(f, [built[i]]));
  process.stdout.write(`# ${files.length} files compiled into test-dist/ in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
} else {
  for (const f of files) runnable.set(f, ['--import', 'tsx', f]);
}

let passed = 0;
let failed = 0;
const failedFiles = [];
const started = Date.now();

/**
 * The CPU seconds of this runner's reaped children so far (Linux: cutime + cstime of /proc/self/stat,
 * which take in the grandchildren each child reaped), or null elsewhere. Read when a file's process
 * has exited, the growth since the last read is that file's CPU: what shows whether a file waits or
 * computes, and so how the files fill two cores.
 */
function childCpuSeconds() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime, cstime (fields 16, 17), USER_HZ = 100
  } catch {
    return null;
  }
}
let cpuSeen = childCpuSeconds();
let cpuTotal = 0;

/** Runs one file; resolves when it has ended and its result is counted and printed. */
function runFile(file) {
  const t0 = Date.now();
  if (soak) process.stdout.write(`\n# ${file}\n`);
  // A soak streams its progress as it goes (it may run for an hour); its exit status is its verdict.
  const child = spawn(process.execPath, [...runnable.get(file), ...passThrough], { stdio: ['ignore', soak ? 'inherit' : 'pipe', soak ? 'inherit' : 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (s) => { out += s; });
  child.stderr?.setEncoding('utf8').on('data', (s) => { err += s; });
  // Soak runs are as long as their --iterations ask; regular test files get 8 minutes.
  let timedOut = false;
  const timer = soak ? null : setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, 8 * 60_000);
  let cpu = null;
  child.on('exit', () => {
    const now = childCpuSeconds();
    if (now !== null && cpuSeen !== null) {
      cpu = now - cpuSeen;
      cpuTotal += cpu;
    }
    cpuSeen = now;
  });
  return new Promise((resolve) => {
    child.on('close', (status, signal) => {
      if (timer !== null) clearTimeout(timer);
      if (!soak) process.stdout.write(`\n# ${file}\n${out}`);
      process.stderr.write(err);
      const total = soak ? 1 : Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const ok = soak ? (status === 0 ? 1 : 0) : Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
      passed += ok;
      const bad = total - ok;
      if (status !== 0 || bad > 0 || total === 0) {
        failed += Math.max(bad, 1);
        failedFiles.push(`${file} (exit ${status ?? signal}${timedOut ? ', killed after 8 minutes' : ''})`);
      }
      const cpuNote = cpu === null ? '' : ` (CPU ${cpu.toFixed(1)} s)`;
      process.stdout.write(`# ${file}: ${ok}/${total} in ${((Date.now() - t0) / 1000).toFixed(1)} s${cpuNote}\n`);
      resolve();
    });
  });
}

/** Runs `n` lanes, each taking its next file from `take` until it gives none. */
async function runLanes(take, n) {
  const next = async () => {
    for (let f = take(); f !== undefined; f = take()) await runFile(f);
  };
  await Promise.all(Array.from({ length: n }, next));
}

/** Runs `queue` with at most `n` files at a time. */
const runQueue = (queue, n) => runLanes(() => queue.shift(), n);

// The files that mostly wait get a lane of their own beside the others (WAITING), with two lanes or more.
const busy = shared.filter((f) => soak || !waits(f));
const waiting = shared.filter((f) => !soak && waits(f));
const waiting0 = waiting.length;
await Promise.all([
  runLanes(() => busy.shift() ?? waiting.shift(), lanes),
  lanes > 1 ? runQueue(waiting, 1) : Promise.resolve(),
]);
const sharedEnd = Date.now();
await runQueue([...servers], serverLanes);
const serversEnd = Date.now();
await runQueue([...alone], aloneLanes);
const cpuLine = cpuSeen === null ? '' : `, CPU ${cpuTotal.toFixed(1)} s`;
const secs = (ms) => `${(ms / 1000).toFixed(0)} s`;
process.stdout.write(`\n${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s${cpuLine} (${lanes} at a time, and ${lanes > 1 ? `${waiting0} that mostly wait in a lane of their own` : 'no lane for the files that mostly wait'}: ${secs(sharedEnd - started)}; ${servers.length} with a server of their own, ${serverLanes} at a time: ${secs(serversEnd - sharedEnd)}; then ${alone.length} of a cluster, ${aloneLanes} at a time: ${secs(Date.now() - serversEnd)})\n`);
if (failedFiles.length > 0) process.stdout.write(`failed files:\n  ${failedFiles.join('\n  ')}\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
