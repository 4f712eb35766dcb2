/**
 * A handler module path the system refuses to look at (a NUL character, a name past the system's
 * length limit) is bad input: ERR_INVALID_OPTION naming handler, never a raw TypeError or ENAMETOOLONG
 * Error, with nothing written and the consumer free for the next call.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, LogError, Whence } from '../dist/index.js';
import { digestDir, rejectsWith, suite } from './kit.js';
import { existingLog } from './bad-input-kit.js';

const test = suite('pool-handler-path-coded');

test('a handler path with a NUL character or too long a name: ERR_INVALID_OPTION naming handler, the consumer not left busy', async () => {
  const logDir = await existingLog();
  const before = digestDir(logDir);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    for (const handler of ['handler\0.mjs', `${'h'.repeat(5000)}.mjs`, `file:///tmp/${'h'.repeat(5000)}.mjs`, new URL(`file:///tmp/${'h'.repeat(5000)}.mjs`)]) {
      for (const call of [() => c.nonblockingProcess(null, handler, { workers: 1 }), () => c.blockingProcess(1, handler, { workers: 1 })]) {
        const e = await rejectsWith(call, 'ERR_INVALID_OPTION');
        assert.ok(e instanceof LogError);
        assert.is((e as LogError).details.option, 'handler', e.message);
      }
    }
    assert.is([...c.iter()].length, 40, 'the consumer serves the next call');
  } finally {
    await c.close();
  }
  assert.is(digestDir(logDir), before);
});

test.run();
