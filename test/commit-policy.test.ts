/**
 * The two policies every consumer path shares (src/cursor/pending-commit.ts, src/consumer/
 * handler-policy.ts): a group commit is due after `everyRecords` records however they are counted in
 * (a pool's coordinator advances by whole prefixes of hundreds of records), and the exponential
 * retry delay stays a number at any attempt (2 ** 1024 is Infinity, and 0 * Infinity is NaN, which a
 * pool lane waited on for ever).
 */
import * as assert from 'uvu/assert';
import { PendingCommit } from '../src/cursor/pending-commit.js';
import { retryDelayMs } from '../src/consumer/handler-policy.js';
import type { ResolvedRetry } from '../src/consumer/start-plan.js';
import { suite } from './kit.js';

const test = suite('commit-policy');

test('a group commit is due after everyRecords records, counted one by one or a prefix at a time', () => {
  const single = new PendingCommit(0, null, 100, null);
  for (let o = 1; o < 100; o++) assert.not.ok(single.advance(o, undefined), `due after ${o} records`);
  assert.ok(single.advance(100, undefined));

  const prefixes = new PendingCommit(1000, null, 100, null);
  assert.not.ok(prefixes.advance(1060, undefined), '60 records');
  assert.ok(prefixes.advance(1500, undefined), '500 records in one step');
  prefixes.restart();
  assert.not.ok(prefixes.advance(1599, undefined), '99 records since the commit');
  assert.ok(prefixes.advance(1600, undefined));

  // A call that moves nothing (a new state at the same offset) still counts as one.
  const still = new PendingCommit(7, null, 2, null);
  assert.not.ok(still.advance(7, new Uint8Array([1])));
  assert.ok(still.advance(7, new Uint8Array([2])));
});

test('exponential retry delays are finite at any attempt, from delayMs 0 up to maxDelayMs', () => {
  const policy = (delayMs: number, maxDelayMs: number): ResolvedRetry => ({ maxAttempts: null, delayMs, backoff: 'exponential', maxDelayMs, retryOnThrow: false, deadLetterDir: '' });
  for (const attempt of [1, 2, 30, 1024, 1025, 1100, 1_000_000]) {
    assert.is(retryDelayMs(policy(0, 30_000), attempt), 0, `delayMs 0, attempt ${attempt}`);
    const d = retryDelayMs(policy(5, 30_000), attempt);
    assert.ok(Number.isFinite(d) && d >= 5 && d <= 30_000, `delayMs 5, attempt ${attempt}: ${d}`);
  }
  assert.is(retryDelayMs(policy(5, 30_000), 3), 20);
  assert.is(retryDelayMs(policy(5, 30_000), 2000), 30_000);
});

test.run();
