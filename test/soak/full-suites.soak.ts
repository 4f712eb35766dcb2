/**
 * The long versions of the suites that `npm test` runs in a shorter form, one after the other, each in
 * its own process as the test runner runs it:
 *   npm run test:soak -- --filter full [--seed n]
 * - test/fault-loop.test.ts with every call number of every loop (FAULT_LOOP_SAMPLE=1; npm test runs
 *   the first four and a seeded 15% of the rest);
 * - test/corruption-open.test.ts with 2,000 cases a property (FC_RUNS=2000; npm test: 60 for
 *   `open/producer`, 1,000 or more for the others);
 * - test/crash.test.ts with 40 kills a scenario (CRASH_ITERATIONS=40; npm test: 5);
 * - test/crash-points.test.ts with 4 tries a point and 30 consumer rounds (CRASH_POINT_TRIES=4
 *   CRASH_CONSUMER_ROUNDS=30; npm test: 1 and 8);
 * - test/crash-threads.test.ts with 16 kills a policy (CRASH_ITERATIONS=16; npm test: 4);
 * - test/power-loss.test.ts with two random mixes a crash point and 6,000 random-workload states
 *   (POWER_LOSS_MIXES=2 POWER_LOSS_RANDOM_STATES=6000; npm test: 1 and 3,000);
 * - test/tx.test.ts with 150 consumer kills (TX_KILLS=150; npm test: 15);
 * - test/locks.test.ts with 6 rounds of 7 contenders a lock (LOCK_ROUNDS=6; npm test: 3);
 * - test/batch-crash.test.ts with 24 kills (BATCH_CRASH_ROUNDS=24; npm test: 12).
 * Each file prints its seed and replay command; `--seed n` gives every file the same seed.
 */
import { spawn } from 'node:child_process';
import * as assert from 'uvu/assert';
import { suite } from '../kit.js';

const test = suite('full-suites-soak');
const at = process.argv.indexOf('--seed');
const seed = at >= 0 ? process.argv[at + 1] : process.env.SEED;

const RUNS: readonly { file: string; env: Record<string, string> }[] = [
  { file: 'test/fault-loop.test.ts', env: { FAULT_LOOP_SAMPLE: '1' } },
  { file: 'test/corruption-open.test.ts', env: { FC_RUNS: '2000' } },
  { file: 'test/crash.test.ts', env: { CRASH_ITERATIONS: '40' } },
  { file: 'test/crash-points.test.ts', env: { CRASH_POINT_TRIES: '4', CRASH_CONSUMER_ROUNDS: '30' } },
  { file: 'test/crash-threads.test.ts', env: { CRASH_ITERATIONS: '16' } },
  { file: 'test/power-loss.test.ts', env: { POWER_LOSS_MIXES: '2', POWER_LOSS_RANDOM_STATES: '6000' } },
  { file: 'test/tx.test.ts', env: { TX_KILLS: '150' } },
  { file: 'test/locks.test.ts', env: { LOCK_ROUNDS: '6' } },
  { file: 'test/batch-crash.test.ts', env: { BATCH_CRASH_ROUNDS: '24' } },
];

/** Runs one test file in its own process with `env`, its output streamed; resolves with its exit code. */
function runFile(file: string, env: Record<string, string>): Promise<number | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env, ...(seed === undefined ? {} : { SEED: seed }) },
  });
  return new Promise((resolve) => child.on('close', (code) => resolve(code)));
}

for (const { file, env } of RUNS) {
  test(`${file} with ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}`, async () => {
    console.log(`\n## ${file} (${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')})`);
    assert.is(await runFile(file, env), 0, `${file} failed (its output is above)`);
  });
}

test.run();
