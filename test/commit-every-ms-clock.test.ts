/**
 * Group commit by time measures everyMs on a clock that never steps back: a wall clock set back (NTP,
 * by hand) while a group is open made every record look younger than everyMs after the last commit,
 * so no group closed by time until the wall clock caught up, and a crash then repeated all of them.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { suite, logOf, waitFor } from './kit.js';

const test = suite('commit-every-ms-clock');
const HOUR = 3_600_000;

test('commit: { everyMs }: a wall clock stepped back an hour does not hold the group open', async () => {
  const logDir = await logOf(3);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('clock'), commit: { everyMs: 20 } });
  const realNow = Date.now.bind(Date);
  const durableSeen: number[] = [];
  try {
    const opened = performance.now();
    Date.now = () => realNow() - HOUR; // the wall clock steps back after the open
    await c.nonblockingProcess(null, async (m) => {
      durableSeen.push(c.committedOffset!);
      // Record 0 completes well past everyMs after the open (the last durable commit).
      if (m.offset === 0) await waitFor(() => performance.now() - opened > 100, '100 ms to pass');
      return 'commit' as const;
    });
  } finally {
    Date.now = realNow;
  }
  assert.is(durableSeen[1], 1, `record 0 completed more than everyMs after the last commit, yet the durable cursor was ${durableSeen[1]} while record 1 was handled`);
  await c.close();
});

test.run();
