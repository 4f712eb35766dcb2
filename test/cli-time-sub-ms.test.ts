/**
 * A time given to the CLI with digits past the ms (`--since 2026-12-03T18:00:05.1234Z`) is that time,
 * not the whole ms below it: `dump --since` and `cursor reset --to-time` start at the first record
 * stored at or after it, as Whence.timestamp and resetCursor given the same instant do, never at a
 * record stamped in the ms before it (a record's timestamp is a whole ms).
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, inspectLog } from '../dist/index.js';
import { timeArg } from '../src/cli/common.js';
import { suite, tempDir, waitFor } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli time sub-ms');
test.after(killCliProcesses);

/** Two records, each in a ms of its own; their timestamps. */
async function twoRecords(logDir: string): Promise<number[]> {
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  try {
    p.append('first');
    await p.flush();
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    const first = [...c.iter()][0]!.timestamp;
    await c.close();
    await waitFor(() => Date.now() > first, 'the clock to pass the first record\'s ms');
    p.append('second');
    await p.flush();
  } finally {
    await p.close();
  }
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...c.iter()].map((m) => m.timestamp);
  } finally {
    await c.close();
  }
}

test('a fraction past the ms counts: the time lies after a record stamped in that ms', () => {
  assert.ok(timeArg('--since', '2026-12-03T18:00:05.123456Z') > Date.UTC(2026, 11, 3, 18, 0, 5, 123));
  assert.ok(timeArg('--since', '2026-12-03T18:00:05.123000001Z') > Date.UTC(2026, 11, 3, 18, 0, 5, 123));
  assert.is(timeArg('--since', '2026-12-03T18:00:05.123000Z'), Date.UTC(2026, 11, 3, 18, 0, 5, 123));
});

test('dump --since and cursor reset --to-time a fraction of a ms after a record: they start after it', async () => {
  const logDir = tempDir();
  const [t0, t1] = await twoRecords(logDir);
  assert.ok(t1! > t0!, `records stamped ${t0} and ${t1}`);
  const since = `${new Date(t0!).toISOString().slice(0, -1)}5Z`; // t0 + 0.5 ms
  // What the library answers for that instant.
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.timestamp(t0! + 0.5)) });
  const lib = [...c.iter()].map((m) => m.offset);
  await c.close();
  assert.equal(lib, [1]);

  const r = cli('dump', logDir, '--since', since, '--json');
  assert.is(r.status, 0, r.stderr);
  const offsets = r.stdout.trim().split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { offset: number }).offset);
  assert.equal(offsets, [1], `dump --since ${since} (record 0 stamped ${new Date(t0!).toISOString()}) printed ${JSON.stringify(offsets)}`);

  const k = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await k.close();
  const reset = cli('cursor', 'reset', logDir, 'billing', '--to-time', since);
  assert.is(reset.status, 0, reset.stderr);
  const cursor = (await inspectLog(logDir)).cursors.find((x) => x.id === 'billing');
  assert.is(cursor?.committedOffset, 1, `cursor reset --to-time ${since} put the cursor at ${cursor?.committedOffset}`);
});

test.run();
