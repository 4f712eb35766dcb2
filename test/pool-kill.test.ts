/**
 * A pool consumer process SIGKILLed mid-call, at seeded random moments, then started again (clientTx
 * and globalTx, with retries and dead letters): every record below a committed cursor ran to its
 * final answer before the commit, no record below the cursor a process opened at runs again in it,
 * and in the end every record ran and every dead letter is one of the records that kept answering
 * 'retry'.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { Consumer, ConsumerStyle, Whence, decodeDeadLetter } from '../dist/index.js';
import { Child } from './child.js';
import { POOL_LOG } from './pool-kit.js';
import { suite, logOf, prng, tempDir, waitFor } from './kit.js';

const test = suite('pool kill');
const N = 4000;
const isDl = (o: number): boolean => o % 151 === 7;
const handlerPath = fileURLToPath(new URL('./fixtures/pool-kill-handler.mjs', import.meta.url));

interface Line { pid: number; offset: number; answer: string; attempt: number }

function handled(dir: string): Line[] {
  const all: Line[] = [];
  for (const f of readdirSync(dir)) {
    const pid = Number(f.split('-')[1]);
    for (const l of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (l === '') continue;
      const [o, answer, attempt] = l.split(' ');
      all.push({ pid, offset: Number(o), answer: answer!, attempt: Number(attempt) });
    }
  }
  return all;
}

/** Finished: 'commit', or the last of 3 'retry' answers (dead-lettered). */
const final = (l: Line): boolean => l.answer === 'commit' || l.attempt === 3;

for (const style of ['client', 'global'] as const) {
  test(`${style}Tx: SIGKILLs mid pool call lose nothing and commit nothing unfinished`, async () => {
    const seed = Number(process.env.SEED ?? Date.now() % 1_000_000);
    process.stdout.write(`# [${style}] seed ${seed}\n`);
    const rnd = prng(seed);
    const logDir = await logOf(Array.from({ length: N }, (_, i) => (isDl(i) ? `dl-${i}` : `rec-${i}`)), POOL_LOG);
    const dir = tempDir();
    const handledDir = join(dir, 'handled');
    mkdirSync(handledDir);
    const deadLetterDir = join(dir, 'dlq');
    const runs: Array<{ pid: number; openedAt: number }> = [];
    for (let round = 0; round < 6; round++) {
      const child = Child.fork('pool-kill-consumer.mjs', [logDir, style, handlerPath, deadLetterDir],
        { execArgv: [], env: { ...process.env, HANDLED_DIR: handledDir } });
      const opened = await child.next<{ type: string; committed: number }>('open');
      runs.push({ pid: child.proc.pid!, openedAt: opened.committed });
      if (opened.committed >= N) {
        await child.kill();
        break;
      }
      // Killed once it runs records, after a random while more (0 to ~800 ms: the first dead letter
      // opens the dead-letter log, which holds the cursor at that record for a while).
      const pid = child.proc.pid!;
      await waitFor(() => handled(handledDir).some((l) => l.pid === pid) || child.exitInfo !== null, 'the child to run records', 20_000);
      await new Promise((r) => setTimeout(r, Math.floor(rnd() * 800)));
      assert.is(child.exitInfo, null, `the child ended on its own: ${child.stderr}`);
      await child.kill();
    }
    process.env.HANDLED_DIR = handledDir;
    const c = await Consumer.open({
      logDir, style: style === 'global' ? ConsumerStyle.globalTx() : ConsumerStyle.clientTx('killed'),
      retry: { maxAttempts: 3, delayMs: 1, backoff: 'exponential', maxDelayMs: 4, deadLetterDir },
    });
    runs.push({ pid: process.pid, openedAt: c.committedOffset ?? 0 });
    await c.nonblockingProcess(null, handlerPath, { workers: 3, batchRecords: 16 });
    assert.is(c.committedOffset, N, 'the last run finishes the log');
    await c.close();

    const lines = handled(handledDir);
    for (let k = 0; k < runs.length; k++) {
      const { pid, openedAt } = runs[k]!;
      const below = lines.filter((l) => l.pid === pid && l.offset < openedAt);
      assert.equal(below.slice(0, 5), [], `run ${k} (opened at ${openedAt}) ran records below its cursor`);
      if (k + 1 < runs.length) {
        // Everything below the next run's cursor finished in this run or an earlier one.
        const pids = new Set(runs.slice(0, k + 1).map((r) => r.pid));
        const done = new Set(lines.filter((l) => pids.has(l.pid) && final(l)).map((l) => l.offset));
        const missing: number[] = [];
        for (let o = 0; o < runs[k + 1]!.openedAt; o++) if (!done.has(o)) missing.push(o);
        assert.equal(missing.slice(0, 10), [], `committed (cursor ${runs[k + 1]!.openedAt}) without a final answer in run ${k} or before`);
      }
      assert.ok(k === 0 || openedAt >= runs[k - 1]!.openedAt, 'the cursor never moves back');
    }
    const dl = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    const dead = new Set([...dl.iter()].map((m) => decodeDeadLetter(m.data).offset));
    await dl.close();
    const expected = Array.from({ length: N }, (_, i) => i).filter(isDl);
    assert.equal([...dead].sort((a, b) => a - b), expected, 'each record that kept answering retry is dead-lettered, and only those');
    process.stdout.write(`# [${style}] cursors at open: ${runs.map((r) => r.openedAt).join(', ')}\n`);
  });
}

test.run();
