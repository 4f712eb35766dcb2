/**
 * reactive-log:dead-letter after a dead letter whose fsync failed: the call rejects with the writer's
 * error, the record comes again, and its second dead letter is a dedup hit on the first (which the
 * dead-letter log's recovery kept). The event was never published for it: it is published then, once.
 */
import * as assert from 'uvu/assert';
import diagnosticsChannel from 'node:diagnostics_channel';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { rejectsWith, suite, tempDir } from './kit.js';
import { clearFaults, readTrace, setFaults } from './faults.js';

const test = suite('dead-letter-event-failed-flush');

test('a dead letter whose first flush failed is published once, when it is written again', async () => {
  const logDir = tempDir();
  const deadLetterDir = join(tempDir(), 'dl');
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  p.append('poison');
  await p.close();
  const seen: { offset: number; attempts: number }[] = [];
  const onLetter = (m: unknown): void => void seen.push(m as (typeof seen)[number]);
  diagnosticsChannel.subscribe('reactive-log:dead-letter', onLetter);
  const trace = join(tempDir(), 'trace');
  // The dead-letter log's writer: its first .seg fdatasync is recovery's, the second the dead letter's flush.
  setFaults({ rules: [{ op: 'fdatasync', thread: 'writer', path: '/dl/\\d+\\.seg$', nth: 2, effect: { errno: 'EIO' } }], trace });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('a'), retry: { maxAttempts: 1, deadLetterDir } });
  try {
    await rejectsWith(c.nonblockingProcess(10, () => 'retry'), 'ERR_IO');
    assert.is(readTrace(trace).filter((l) => l.fired).length, 1, 'the dead letter\'s fsync failed');
    assert.is(seen.length, 0, 'nothing published for a dead letter that failed');
    const summary = await c.nonblockingProcess(10, () => 'retry');
    assert.is(summary.skipped, 1);
    assert.equal(seen.map((e) => [e.offset, e.attempts]), [[0, 1]], 'published once the dead letter is durable');
  } finally {
    clearFaults();
    diagnosticsChannel.unsubscribe('reactive-log:dead-letter', onLetter);
    await c.close();
  }
  const dl = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  assert.is([...dl.iter()].length, 1, 'one dead letter in the dead-letter log');
  await dl.close();
});

test.run();
