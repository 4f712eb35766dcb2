/**
 * Reading and verifying beside a live producer never reports damage that is not there: one round of
 * the readers-and-verify soak (test/readers-soak-kit.ts, which says what passes and what fails). A
 * producer child appends 8,000 records to 1 KiB segments keeping 2 of them; four reader children tail
 * the files from the oldest record, one to three of them pausing until the producer is far past them;
 * this process runs verifyLog again and again meanwhile (a thousand times or more). ERR_POSITION_EXPIRED
 * is legitimate and checked to be exact; any ERR_LOG_CORRUPT or verify damage fails.
 * SEED=<n> replays the round's shape (the timing of the processes is not replayable).
 */
import { suite } from './kit.js';
import { roundParams, soakRound, type RoundStats } from './readers-soak-kit.js';

const test = suite('readers-verify');
const SEED = Number(process.env.SEED ?? Date.now() % 1_000_000);

test('four readers in other processes and verify, beside a producer with tiny segments and aggressive retention', async () => {
  const params = roundParams(SEED, { total: 8000, readers: 4, maxRollKiB: 1, maxSegments: 2 });
  console.log(`  readers-verify seed ${SEED} (SEED=${SEED} replays): ${params.roll} B segments, maxTotalBytes ${params.maxTotalBytes}, ${params.policy}, pauses [${params.pauses.join(', ')}]`);
  const stats: RoundStats = { verifies: 0, verifyWarnings: 0, expirations: 0, recordsRead: 0 };
  const t0 = Date.now();
  await soakRound(params, stats);
  console.log(`  ${stats.verifies} verifies (${stats.verifyWarnings} warnings, no damage), ${stats.recordsRead} records read, ${stats.expirations} ERR_POSITION_EXPIRED, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

test.run();
