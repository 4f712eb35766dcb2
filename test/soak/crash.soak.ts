/**
 * Crash soak: the crash suite's iterations (test/crash-harness.ts) drawn at random, for as long as asked.
 *   npm run test:soak -- --iterations 10000 [--lanes 2] [--seed n]
 * Each lane works one log directory at a time: random kills under a random policy and shape, targeted
 * producer points, or a transactional consumer beside a crashing producer, then a fresh directory.
 * Lanes run side by side (the children mostly wait on their kill timers). Prints progress and a summary;
 * any oracle failure stops the run with the seed that replays it.
 */
import { suite, prng } from '../kit.js';
import {
  CONSUMER_POINTS, CrashDir, POLICIES, PRODUCER_POINTS, formatStats, lossWindowSlackMs, newStats, producerPointIteration,
  randomRun, shapeFor, shapeForPoint, type CrashStats,
} from '../crash-harness.js';
import { rmSync } from 'node:fs';

const test = suite('crash-soak');
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const iterations = arg('iterations', 1000);
const lanes = arg('lanes', 2);
const seed = arg('seed', Number(process.env.SEED ?? Date.now() % 1_000_000));
const stats = newStats();
const started = Date.now();
let dirs = 0;

/** One directory's worth of work: 5 to 20 kills of one kind. */
async function oneDir(rand: () => number, slackMs: number, s: CrashStats): Promise<void> {
  const kind = rand();
  const dirSeed = Math.floor(rand() * 2 ** 31);
  if (kind < 0.5) {
    const shape = shapeFor(POLICIES[Math.floor(rand() * POLICIES.length)]!, rand, rand() < 0.5);
    const d = await CrashDir.create(shape, dirSeed, s, slackMs);
    for (let k = 5 + Math.floor(rand() * 15); k > 0; k--) await d.producerIteration(randomRun(rand, shape));
    rmSync(d.dir, { recursive: true, force: true });
  } else if (kind < 0.8) {
    const point = PRODUCER_POINTS[Math.floor(rand() * PRODUCER_POINTS.length)]!;
    const d = await CrashDir.create(shapeForPoint(point, rand), dirSeed, s, slackMs);
    for (let k = 3 + Math.floor(rand() * 5); k > 0; k--) await producerPointIteration(d, point, rand);
    rmSync(d.dir, { recursive: true, force: true });
  } else {
    const d = await CrashDir.create(shapeFor(POLICIES[Math.floor(rand() * POLICIES.length)]!, rand, false), dirSeed, s, slackMs);
    const points = CONSUMER_POINTS.filter((p) => p.needs === undefined);
    for (let k = 0, n = 4 + Math.floor(rand() * 8); k < n; k++) {
      const point = rand() < 0.5 ? points[Math.floor(rand() * points.length)]! : undefined;
      const run = randomRun(rand, d.shape);
      await d.consumerIteration('soak', point ? [1, 3][k % 2]! : [1, 7, 50][k % 3]!, point ? 2000 : Math.floor(rand() * 1200),
        { ...run, killAfterMs: run.killAfterMs + (point ? 400 : 0) }, point ? { name: point.name, spec: point.spec(rand) } : undefined);
    }
    await d.drainConsumer('soak');
    rmSync(d.dir, { recursive: true, force: true });
  }
  dirs++;
}

test(`crash soak: ${iterations} kill iterations`, async () => {
  console.log(`crash soak seed=${seed}, ${iterations} iterations, ${lanes} lanes (replay: npm run test:soak -- --iterations ${iterations} --lanes ${lanes} --seed ${seed})`);
  const slackMs = lossWindowSlackMs();
  console.log(`periodic loss window: ms + ${slackMs} ms`);
  let nextReport = 250;
  const lane = async (l: number): Promise<void> => {
    const rand = prng(seed * 1009 + l);
    while (stats.kills < iterations) {
      const laneSeedAt = Math.floor(rand() * 2 ** 31);
      try {
        await oneDir(prng(laneSeedAt), slackMs, stats);
      } catch (e) {
        console.log(`crash soak FAILED in lane ${l} (seed ${seed}, directory seed ${laneSeedAt}) after ${stats.kills} kills`);
        throw e;
      }
      if (stats.kills >= nextReport) {
        nextReport = (Math.floor(stats.kills / 250) + 1) * 250;
        console.log(`  ${stats.kills} kills, ${dirs} directories, ${((Date.now() - started) / 1000).toFixed(0)} s`);
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, l) => lane(l)));
  console.log(`crash soak done: seed=${seed}, ${dirs} directories, ${((Date.now() - started) / 1000).toFixed(0)} s\n  ${formatStats(stats)}`);
});

test.run();
