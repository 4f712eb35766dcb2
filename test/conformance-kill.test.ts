/**
 * Conformance, exactly-once across SIGKILLs, on every backend: a clientTx consumer in a child process
 * commits its effect (a count and a sum, as its state) with its cursor per record and is killed at
 * seeded random moments, then started again; in the end the state counts every record exactly once.
 * A killed owner's cursor is taken over (locally at once: its pid is gone; on JetStream once its
 * lease expired, within leaseMs).
 */
import * as assert from 'uvu/assert';
import { ConsumerStyle, type Consumer } from '../dist/index.js';
import { Child } from './child.js';
import { conformance, type LogUnderTest } from './conformance-kit.js';
import { prng, waitFor } from './kit.js';

const N = 2000;

/** Opens the cursor, waiting (bounded) for a killed owner's lease to expire. */
async function openTaken(log: LogUnderTest): Promise<Consumer> {
  let c: Consumer | null = null;
  await waitFor(async () => {
    try {
      c = await log.consumer(ConsumerStyle.clientTx('killed'));
      return true;
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_CURSOR_LOCKED') throw e;
      // Each try is round trips to the server: over a lease of seconds, one every 50 ms is enough.
      await new Promise((r) => setTimeout(r, 50));
      return false;
    }
  }, 'the killed owner\'s cursor to be free', 15_000);
  return c!;
}

conformance('conformance: kill', (test, b) => {
  test('clientTx exactly once across SIGKILLs of the consumer process', async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
    process.stdout.write(`# [${b.name}] seed ${seed}\n`);
    const rnd = prng(seed);
    const log = await b.fresh();
    const p = await log.producer();
    try {
      for (let i = 0; i < N; i++) p.append(`r${i}`);
      await p.flush();
    } finally {
      await p.close();
    }
    let kills = 0;
    for (let round = 0; round < 4; round++) {
      // The child takes the cursor once the last one's lease let it go (it tries again meanwhile).
      const child = Child.fork('tx-kill-consumer.mjs', [log.childWhere, String(N)]);
      const opened = await child.next<{ type: string; committed: number }>('open', 20_000);
      // A killed child may have finished the log before the kill (the local backend is fast): nothing is left to kill mid-run.
      if (opened.committed >= N) {
        await child.kill();
        break;
      }
      // Kill it once it processes, after a random short while more (0 to ~100 ms), mid-run.
      const started = await child.next<{ type: string; offset: number }>('progress');
      await new Promise((r) => setTimeout(r, Math.floor(rnd() * 100)));
      await child.kill();
      kills++;
      process.stdout.write(`# [${b.name}] kill ${kills}: the child had reached offset ${started.offset} or later\n`);
      const err = child.stderr.match(/record \d+ handed out while the committed state counts \d+/);
      assert.is(err, null, 'no record handed out after its effect was committed');
    }
    const c = await openTaken(log);
    try {
      await c.nonblockingProcess(null, (m, ctx) => {
        const [count, sum] = ctx.state === null ? [0, 0] : JSON.parse(Buffer.from(ctx.state).toString()) as [number, number];
        assert.is(m.offset, count, 'the next record is the one after the last committed effect');
        ctx.setState(JSON.stringify([count + 1, sum + m.offset]));
        return 'commit';
      });
      const [count, sum] = JSON.parse(Buffer.from(c.state!).toString()) as [number, number];
      assert.is(count, N, `every record counted once (${kills} kills)`);
      assert.is(sum, (N * (N - 1)) / 2);
      assert.is(c.committedOffset, N);
    } finally {
      await c.close();
    }
  });
});
