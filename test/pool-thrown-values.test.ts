/**
 * retry.retryOnThrow with values a handler throws or rejects with: a pool and a handler function run
 * in the consumer's thread give the same summary and the same dead letters. A throw of undefined or
 * null counts as a failed attempt (dead-lettered after maxAttempts, lastError null), and a dead
 * letter's lastError is the message of the last error thrown in any attempt of its record, also when
 * a later attempt answered 'retry'.
 */
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import handler from './fixtures/throwing-pool-handler.mjs';
import { suite } from './kit.js';
import { retriedRun, type RetriedRun } from './retry-kit.js';

const test = suite('pool-thrown-values');
const handlerFile = fileURLToPath(new URL('./fixtures/throwing-pool-handler.mjs', import.meta.url));
const texts = ['boom-then-retry', 'reject-undefined', 'ok', 'throw-undefined', 'boom-then-null'];

const run = (pool: boolean): Promise<RetriedRun> => retriedRun(texts, handler, handlerFile, pool);

test('a function and a pool: same summary, same dead letters', async () => {
  const expected = {
    summary: { committed: 1, skipped: 4, retried: 8, stoppedBy: 'end' },
    dead: [[0, 2, 'boom at 0'], [1, 2, null], [3, 2, null], [4, 2, null]],
  };
  assert.equal(await run(false), expected, 'a handler function');
  assert.equal(await run(true), expected, 'a pool');
});

test.run();
