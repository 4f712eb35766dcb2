/**
 * Crash suite, random kills: producer children SIGKILLed at random moments under every sync policy,
 * with small segments, and with tiny segments under aggressive retention. After every kill the log is
 * reopened here and checked by the oracle (test/oracle.ts). SEED=<n> replays a run.
 */
import { suite, prng } from './kit.js';
import { CrashDir, POLICIES, formatStats, lossWindowSlackMs, newStats, randomRun, shapeFor } from './crash-harness.js';

const test = suite('crash');
const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
const perScenario = Number(process.env.CRASH_ITERATIONS ?? 5);
console.log(`crash test seed=${seed}, ${perScenario} kills per scenario (replay: SEED=${seed} node --import tsx test/crash.test.ts)`);
const slackMs = lossWindowSlackMs();
const stats = newStats();

test.after(() => {
  console.log(`crash test seed=${seed}: ${formatStats(stats)}`);
});

POLICIES.forEach((policy, i) => {
  for (const retention of [false, true]) {
    const name = `${policy}, ${retention ? 'tiny segments and aggressive retention' : 'small segments'}`;
    test(`random SIGKILLs of the producer, ${name}: no loss, no ghosts, no duplicates`, async () => {
      const rand = prng(seed * 31 + i * 2 + (retention ? 1 : 0));
      const d = await CrashDir.create(shapeFor(policy, rand, retention), Math.floor(rand() * 2 ** 31), stats, slackMs);
      for (let k = 0; k < perScenario; k++) await d.producerIteration(randomRun(rand, d.shape));
    });
  }
});

test.run();
