/**
 * Readers-and-verify soak: rounds of test/readers-soak-kit.ts (a producer child on tiny segments with
 * aggressive retention, reader children tailing from the oldest record, some pausing, and verifyLog
 * run again and again in this process), for as many rounds or as long as asked:
 *   npm run test:soak -- --filter readers --iterations 50 [--seed n] [--readers 4] [--total 20000]
 *   npm run test:soak -- --filter readers --seconds 3600
 * Half the rounds use the tightest shape (1 KiB segments, 2 kept), the others 1 to 4 KiB segments
 * with 2 to 5 kept, never or periodic(5) syncs. Any ERR_LOG_CORRUPT (or other error) in a reader, or
 * any verify damage, stops the run with the round's seed; ERR_POSITION_EXPIRED is legitimate and
 * checked to be exact (see the kit). Prints progress and a summary.
 */
import { suite, prng } from '../kit.js';
import { roundParams, soakRound, type RoundStats } from '../readers-soak-kit.js';

const test = suite('readers-verify-soak');
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('seconds', 0);
const iterations = arg('iterations', seconds > 0 ? Number.MAX_SAFE_INTEGER : 20);
const readers = arg('readers', 4);
const total = arg('total', 20_000);
const seed = arg('seed', Number(process.env.SEED ?? Date.now() % 1_000_000));

test(`readers-and-verify soak: ${seconds > 0 ? `${seconds} s` : `${iterations} rounds`}`, async () => {
  const limit = seconds > 0 ? `--seconds ${seconds}` : `--iterations ${iterations}`;
  console.log(`readers-verify soak seed=${seed}, ${limit}, ${readers} readers, ${total} records a round (replay: npm run test:soak -- --filter readers ${limit} --readers ${readers} --total ${total} --seed ${seed})`);
  const rand = prng(seed);
  const stats: RoundStats = { verifies: 0, verifyWarnings: 0, expirations: 0, recordsRead: 0 };
  const started = Date.now();
  let rounds = 0;
  while (rounds < iterations && (seconds === 0 || Date.now() - started < seconds * 1000)) {
    const roundSeed = Math.floor(rand() * 2 ** 31);
    const tight = rounds % 2 === 0;
    const params = roundParams(roundSeed, { total, readers, maxRollKiB: tight ? 1 : 4, maxSegments: tight ? 2 : 5 });
    await soakRound(params, stats);
    rounds++;
    console.log(`  round ${rounds} (seed ${roundSeed}, ${params.roll} B segments, maxTotalBytes ${params.maxTotalBytes}, ${params.policy}): `
      + `${stats.verifies} verifies, ${stats.expirations} ERR_POSITION_EXPIRED, ${stats.recordsRead} records read so far, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  console.log(`readers-verify soak done: seed=${seed}, ${rounds} rounds, ${stats.verifies} verifies (${stats.verifyWarnings} warnings, no damage), `
    + `${stats.recordsRead} records read, ${stats.expirations} ERR_POSITION_EXPIRED, ${((Date.now() - started) / 1000).toFixed(0)} s`);
});

test.run();
