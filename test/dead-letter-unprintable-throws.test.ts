/**
 * retry.retryOnThrow with thrown values String() cannot convert (no prototype, a throwing toString)
 * and an Error whose message is no string: the record is dead-lettered after maxAttempts with a
 * string lastError, from a handler function and from a pool alike, instead of the call rejecting
 * with the TypeError of making the text (and the record coming again forever). Without
 * retryOnThrow, a pool rejects with an Error carrying that text.
 */
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import handler from './fixtures/unprintable-throw-handler.mjs';
import { suite, logOf } from './kit.js';
import { retriedRun, type RetriedRun } from './retry-kit.js';

const test = suite('dead-letter-unprintable-throws');
const handlerFile = fileURLToPath(new URL('./fixtures/unprintable-throw-handler.mjs', import.meta.url));
const texts = ['null-proto', 'ok', 'bad-toString', 'number-message'];

const run = (pool: boolean): Promise<RetriedRun> => retriedRun(texts, handler, handlerFile, pool);

test('a function and a pool dead-letter the records with a string lastError', async () => {
  const expected = {
    summary: { committed: 1, skipped: 3, retried: 6, stoppedBy: 'end' },
    dead: [[0, 2, '[object Object]'], [2, 2, '[object Object]'], [3, 2, '42']],
  };
  assert.equal(await run(false), expected, 'a handler function');
  assert.equal(await run(true), expected, 'a pool');
});

test('without retryOnThrow a pool rejects with an Error carrying the text', async () => {
  const logDir = await logOf(['null-proto']);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('n') });
  try {
    const e = await c.nonblockingProcess(null, handlerFile, { workers: 1 }).then(() => null, (err: unknown) => err);
    assert.instance(e, Error);
    assert.is((e as Error).message, '[object Object]');
    assert.is(c.committedOffset, 0);
  } finally {
    await c.close();
  }
});

test.run();
