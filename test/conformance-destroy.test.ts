/**
 * Conformance of `producer.destroy(err)` on every backend (README, "producer.destroy"): a flush
 * waiting rejects with `err` (ERR_LOG_CLOSED without one), later calls with ERR_LOG_CLOSED, `error`
 * stays null (a destroy is no failure of the producer), and close() after it resolves. On JetStream
 * the reason was kept as the producer's failure: a plain Error never reached the waiting flush, and a
 * LogError made every later call, `error` and close() report it.
 */
import * as assert from 'uvu/assert';
import { ErrorCode, LogError } from '../dist/index.js';
import { conformance } from './conformance-kit.js';
import { rejectsWith, throwsWith } from './kit.js';

const REASONS: Array<[string, () => Error | undefined]> = [
  ['a plain Error', () => new Error('the application stops')],
  ['a LogError', () => new LogError(ErrorCode.IO, 'the application stops with a code')],
  ['no reason', () => undefined],
];

conformance('conformance: destroy', (test, b) => {
  for (const [what, reason] of REASONS) {
    test(`destroy with ${what}: the waiting flush gets it, later calls ERR_LOG_CLOSED, error null, close resolves`, async () => {
      const log = await b.fresh();
      const p = await log.producer();
      p.append('before');
      const err = reason();
      const waiting = p.flush().then(() => null, (e: unknown) => e);
      await p.destroy(err);
      const got = await waiting;
      if (err === undefined) assert.is((got as LogError | null)?.code, ErrorCode.LOG_CLOSED, String(got));
      else assert.is(got, err, `the waiting flush rejected with ${String(got)}`);
      await rejectsWith(p.flush(), ErrorCode.LOG_CLOSED);
      throwsWith(() => p.append('after'), ErrorCode.LOG_CLOSED);
      assert.is(p.error, null);
      await p.close();
      await p.destroy(err); // twice: safe
      assert.is(p.error, null);
    });
  }

  test('destroy after close: error stays null', async () => {
    const log = await b.fresh();
    const p = await log.producer();
    p.append('one');
    await p.close();
    await p.destroy(new Error('late'));
    assert.is(p.error, null);
    await rejectsWith(p.flush(), ErrorCode.LOG_CLOSED);
  });
});
