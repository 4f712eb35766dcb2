/**
 * Idempotent appends across kill -9: a producer child (fixtures/dedup-producer.mjs) appends records
 * with dedup keys k0..k(n-1), always retrying from k0 after a restart (each round's n larger than the
 * last's, so that every child has new records to write), and is SIGKILLed at random times or by
 * kill-at-io inside a segment write (torn), at an fdatasync, or while creating a segment.
 * A last child runs to the end. The oracle: every key is in the log exactly once, and every key whose
 * offset a flush acknowledged is still at that offset. SEED=<n> replays the kill points (not the
 * timing of the processes).
 */
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { suite, prng, readRecords, tempDir } from './kit.js';
import { Child } from './child.js';

const test = suite('dedup-crash');

const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
const rounds = Number(process.env.DEDUP_CRASH_ROUNDS ?? 16);
const TOTAL = 3000;
console.log(`dedup crash test seed=${seed}, ${rounds} kills (replay: SEED=${seed} node --import tsx test/dedup-crash.test.ts)`);
const KILL_AT_IO = fileURLToPath(new URL('./fixtures/kill-at-io.mjs', import.meta.url));

function killPoint(rand: () => number): object | null {
  const r = rand();
  if (r < 0.35) return { op: 'writev', file: 'seg', n: 1 + Math.floor(rand() * 40), mode: 'torn', cut: rand() };
  if (r < 0.55) return { op: 'fdatasync', file: 'seg', n: 1 + Math.floor(rand() * 10), mode: rand() < 0.5 ? 'before' : 'after' };
  if (r < 0.65) return { op: 'open', file: 'seg', n: 1 + Math.floor(rand() * 3), mode: 'after', flags: 'wx' };
  return null; // a SIGKILL from here, at a random time
}

/** Runs one child until it is done, dies at its kill point, or is killed after `killAfterMs`. */
async function runChild(cfg: object, point: object | null, killAfterMs: number, acked: Map<number, number>): Promise<boolean> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (point !== null) {
    env.REACTIVE_LOG_TEST_FILE_IO = KILL_AT_IO;
    env.REACTIVE_LOG_KILL_AT = JSON.stringify(point);
  }
  const child = Child.fork('dedup-producer.mjs', [JSON.stringify(cfg)], { env, execArgv: [] });
  try {
    await child.next('open');
  } catch (e) {
    // A kill point inside Producer.open (recovery creates or rolls a segment): a kill all the same.
    if (point === null || child.exitInfo?.signal !== 'SIGKILL') throw e;
  }
  const deadline = Date.now() + killAfterMs;
  let done = false;
  while (child.exitInfo === null && !done) {
    if (Date.now() >= deadline) {
      child.proc.kill('SIGKILL');
      break;
    }
    try {
      const m = await child.next('durable', Math.max(1, deadline - Date.now()));
      for (const [i, offset] of m.offsets as [number, number][]) acked.set(i, offset);
    } catch {
      done = child.pending.some((m) => m.type === 'done');
    }
  }
  await child.exited;
  for (const m of child.pending) {
    if (m.type === 'durable') for (const [i, offset] of m.offsets as [number, number][]) acked.set(i, offset);
    if (m.type === 'done') done = true;
  }
  if (!done && child.exitInfo?.signal !== 'SIGKILL') throw new Error(`the child failed: ${JSON.stringify(child.exitInfo)} ${child.stderr}`);
  return done;
}

test('no key is appended twice across kills and retries, and acknowledged keys keep their offsets', async () => {
  const rand = prng(seed);
  const logDir = tempDir();
  const acked = new Map<number, number>(); // key number -> offset, from the child's flush reports
  let killedMidway = 0;
  for (let round = 0; round < rounds; round++) {
    // Each child retries every key of the rounds before and has new ones to append: a child whose keys
    // were all in the log already would find them in its window and end before any kill could land.
    const total = Math.round((TOTAL * (round + 1)) / (rounds + 1));
    const cfg = { dir: logDir, seed: seed * 100 + round, total, policy: ['always', 'never', 'periodic:5'][round % 3], window: 100_000 };
    if (!(await runChild(cfg, killPoint(rand), 5 + Math.floor(rand() * 150), acked))) killedMidway++;
  }
  // The kills must happen for the test to mean anything; how many land mid-way depends on the machine's speed.
  assert.ok(killedMidway >= Math.max(2, rounds / 8), `only ${killedMidway} of ${rounds} children were killed before their end`);
  const finished = await runChild({ dir: logDir, seed: seed * 100 + rounds, total: TOTAL, policy: 'always', window: 100_000 }, null, 120_000, acked);
  assert.ok(finished, 'the last child ran to the end');
  const seen = new Map<number, number>();
  for (const r of await readRecords(logDir)) {
    const i = Number(/^r(\d+):/.exec(r.text)![1]);
    assert.not.ok(seen.has(i), `key k${i} at offsets ${seen.get(i)} and ${r.offset}`);
    seen.set(i, r.offset);
  }
  assert.is(seen.size, TOTAL, 'every key is in the log');
  for (const [i, offset] of acked) assert.is(seen.get(i), offset, `k${i} was acknowledged at ${offset}`);
  console.log(`dedup crash test seed=${seed}: ${killedMidway} of ${rounds} children killed before their end, ${acked.size} keys acknowledged, ${TOTAL} keys once each`);
});

test.run();
