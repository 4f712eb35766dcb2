/**
 * Group commit by time alone: `commit: { everyMs }` without `everyRecords` groups the records
 * completed within everyMs into one durable commit (docs/consumers.md, "Group commit"); it made the
 * cursor durable after every record, as without a commit policy, because everyRecords kept its
 * default of 1 and was always due first.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { suite, logOf } from './kit.js';

const test = suite('commit-every-ms');

test('commit: { everyMs } alone: records completed within everyMs are one group, durable when the call ends', async () => {
  const logDir = await logOf(6);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('timed'), commit: { everyMs: 3_600_000 } });
  const durableSeen: number[] = [];
  const s = await c.nonblockingProcess(null, () => {
    durableSeen.push(c.committedOffset!);
    return 'commit';
  });
  assert.equal(s, { committed: 6, skipped: 0, retried: 0, stoppedBy: 'end' });
  // An hour does not pass within the call: nothing is durable until the call ends.
  assert.equal(durableSeen, [0, 0, 0, 0, 0, 0], 'the cursor was made durable inside the group');
  assert.is(c.committedOffset, 6, 'the end of the call made the open group durable');
  await c.close();
});

test('commit: { everyRecords, everyMs }: the count still closes a group', async () => {
  const logDir = await logOf(6);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('both'), commit: { everyRecords: 4, everyMs: 3_600_000 } });
  const durableSeen: number[] = [];
  await c.nonblockingProcess(null, () => {
    durableSeen.push(c.committedOffset!);
    return 'commit';
  });
  assert.equal(durableSeen, [0, 0, 0, 0, 4, 4]);
  await c.close();
});

test('no commit policy: every completed record is durable before the next is handed out', async () => {
  const logDir = await logOf(3);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('each'), commit: { everyMs: null } });
  const durableSeen: number[] = [];
  await c.nonblockingProcess(null, () => {
    durableSeen.push(c.committedOffset!);
    return 'commit';
  });
  assert.equal(durableSeen, [0, 1, 2]);
  await c.close();
});

test.run();
