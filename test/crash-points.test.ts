/**
 * Crash suite, targeted kills: a kill-at-io hook SIGKILLs the child at a chosen file operation (a torn
 * batch write, between write and fsync, during a roll, during retention's start.offset write and unlink, during recovery's
 * truncation, during a cursor commit), and the oracle (test/oracle.ts) checks the log after each one.
 * Then a transactional consumer, SIGKILLed at random and at cursor points beside a crashing producer,
 * must end with every record applied exactly once. SEED=<n> replays a run.
 */
import * as assert from 'uvu/assert';
import { suite, prng } from './kit.js';
import {
  CONSUMER_POINTS, CrashDir, PRODUCER_POINTS, formatStats, lossWindowSlackMs, newStats, producerPointIteration,
  randomRun, shapeFor, shapeForPoint,
} from './crash-harness.js';

const test = suite('crash-points');
const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
const tries = Number(process.env.CRASH_POINT_TRIES ?? 1);
const rounds = Number(process.env.CRASH_CONSUMER_ROUNDS ?? 8);
console.log(`crash points test seed=${seed}, ${tries} tries per point, ${rounds} consumer rounds (replay: SEED=${seed} node --import tsx test/crash-points.test.ts)`);
const slackMs = lossWindowSlackMs();
const stats = newStats();

test.after(() => {
  console.log(`crash points test seed=${seed}: ${formatStats(stats)}`);
});

PRODUCER_POINTS.forEach((point, i) => {
  test(`SIGKILL at ${point.name}: the log reopens to a checked prefix`, async () => {
    const rand = prng(seed * 37 + i);
    const d = await CrashDir.create(shapeForPoint(point, rand), Math.floor(rand() * 2 ** 31), stats, slackMs);
    let hits = 0;
    for (let k = 0; k < tries; k++) if (await producerPointIteration(d, point, rand)) hits++;
    // On a loaded machine a child can be killed at random before its operation comes up in every try:
    // such a point gets more tries, each one checked like the others.
    for (let extra = 0; extra < 8 && hits === 0; extra++) if (await producerPointIteration(d, point, rand)) hits++;
    assert.ok(hits > 0, `the point "${point.name}" was never reached in ${tries} tries`);
  });
});

test('a clientTx consumer SIGKILLed at random and at cursor commits, beside a crashing producer: exactly once', async () => {
  const rand = prng(seed * 41 + 1);
  const d = await CrashDir.create(shapeFor('always', rand, false), Math.floor(rand() * 2 ** 31), stats, slackMs);
  const points = CONSUMER_POINTS.filter((p) => p.needs === undefined);
  for (let k = 0; k < rounds; k++) {
    const point = rand() < 0.5 ? points[k % points.length]! : undefined;
    const spec = point?.spec(rand);
    const run = randomRun(rand, d.shape);
    // A consumer with a point gets time to reach it; the producer keeps appending meanwhile.
    // A consumer with a point commits often and gets time to reach it; the producer keeps appending meanwhile.
    const everyRecords = point ? [1, 3][k % 2]! : [1, 1, 7, 50][k % 4]!;
    await d.consumerIteration('oracle', everyRecords, point ? 2000 : Math.floor(rand() * 1200), { ...run, killAfterMs: run.killAfterMs + (point ? 400 : 0) },
      point && spec ? { name: point.name, spec } : undefined);
  }
  // The rounds pick points at random: a point that got few tries, none of which reached it (a slow
  // machine), gets more, each one a checked round like the others. A point is the consumer's n-th
  // cursor commit of its round, so the round needs n records to commit: once the consumer has caught
  // up, those are what the round's producer appends before its kill. On a loaded machine the
  // producer's start can take most of its time, and the consumer's start can outlast the parent's
  // kill: each further round gives both of them 1 s more.
  for (const p of points) {
    for (let extra = 0; extra < 16 && (stats.points[p.name]?.hit ?? 0) === 0; extra++) {
      const run = randomRun(rand, d.shape);
      await d.consumerIteration('oracle', 1, 2000 + 1000 * extra, { ...run, killAfterMs: run.killAfterMs + 400 + 1000 * extra }, { name: p.name, spec: p.spec(rand) });
    }
  }
  await d.drainConsumer('oracle');
  for (const p of points) assert.ok((stats.points[p.name]?.hit ?? 0) > 0, `the consumer point "${p.name}" was never reached`);
});

test('SIGKILL while a new cursor file is renamed into place: it opens, never torn', async () => {
  const rand = prng(seed * 43 + 2);
  const d = await CrashDir.create(shapeFor('always', rand, false), Math.floor(rand() * 2 ** 31), stats, slackMs);
  const point = CONSUMER_POINTS.find((p) => p.needs === 'new-cursor')!;
  for (let k = 0; k < tries; k++) {
    await d.consumerIteration(`fresh${k}`, 1, 2000, randomRun(rand, d.shape), { name: point.name, spec: point.spec(rand) });
  }
  assert.ok(stats.points[point.name]!.hit > 0, 'the rename point was never reached');
});

test.run();
