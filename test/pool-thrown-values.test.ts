/**
 * retry.retryOnThrow with values a handler throws or rejects with: a pool and a handler function run
 * in the consumer's thread give the same summary and the same dead letters. A throw of undefined or
 * null counts as a failed attempt (dead-lettered after maxAttempts, lastError null), and a dead
 * letter's lastError is the message of the last error thrown in any attempt of its record, also when
 * a later attempt answered 'retry'.
 */
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Whence, decodeDeadLetter, type ProcessSummary } from '../dist/index.js';
import handler from './fixtures/throwing-pool-handler.mjs';
import { suite, logOf, tempDir } from './kit.js';

const test = suite('pool-thrown-values');
const handlerFile = fileURLToPath(new URL('./fixtures/throwing-pool-handler.mjs', import.meta.url));
const texts = ['boom-then-retry', 'reject-undefined', 'ok', 'throw-undefined', 'boom-then-null'];

/** Processes `texts` with maxAttempts 2 and retryOnThrow: the summary and the dead letters' [offset, attempts, lastError]. */
async function run(pool: boolean): Promise<{ summary: ProcessSummary | string; dead: Array<[number, number, string | null]> }> {
  const logDir = await logOf(texts);
  const deadLetterDir = `${tempDir()}/dl`;
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('q'), retry: { maxAttempts: 2, retryOnThrow: true, deadLetterDir } });
  let summary: ProcessSummary | string;
  try {
    summary = await (pool ? c.nonblockingProcess(null, handlerFile, { workers: 1 }) : c.nonblockingProcess(null, handler));
  } catch (e) {
    summary = `rejected: ${(e as { code?: string }).code} ${(e as Error).message}`;
  } finally {
    await c.close();
  }
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const dead = [...d.iter()].map((m): [number, number, string | null] => {
      const l = decodeDeadLetter(m.data);
      return [l.offset, l.attempts, l.lastError];
    });
    return { summary, dead };
  } finally {
    await d.close();
  }
}

test('a function and a pool: same summary, same dead letters', async () => {
  const expected = {
    summary: { committed: 1, skipped: 4, retried: 8, stoppedBy: 'end' },
    dead: [[0, 2, 'boom at 0'], [1, 2, null], [3, 2, null], [4, 2, null]],
  };
  assert.equal(await run(false), expected, 'a handler function');
  assert.equal(await run(true), expected, 'a pool');
});

test.run();
