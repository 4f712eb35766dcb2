/**
 * The non-transactional consumer across processes: a reader here woken by a child's producer, and a
 * child's reader tailing what this process appends (from oldest and from latest), also while a roll is
 * slowed between creating the new segment and writing its header.
 */
import * as assert from 'uvu/assert';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, type Message } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';
import { Child } from './child.js';
import { readdirSync } from 'node:fs';
import { withFaults } from './faults.js';

const test = suite('consume-processes');

const textOf = (m: Message) => Buffer.from(m.data).toString();
const openAt = (logDir: string, whence = Whence.oldest()) => Consumer.open({ logDir, style: ConsumerStyle.nonTx(whence) });

test('a blocking reader in this process is woken by appends of a producer in a child process', async () => {
  const logDir = tempDir();
  const child = Child.fork('ipc-producer.mjs', [logDir]);
  let c: Consumer | undefined;
  let q: Consumer | undefined;
  const ac = new AbortController();
  try {
    await child.next('open');
    c = await openAt(logDir, Whence.oldest());
    const got: Message[] = [];
    const loop = (async () => { for await (const m of c!.tail({ signal: ac.signal })) got.push(m); })();
    const sent: string[] = [];
    for (let batch = 0; batch < 5; batch++) {
      const records = Array.from({ length: batch + 1 }, (_, k) => `child-${batch}-${k}-${'é'.repeat(k)}`);
      child.send({ type: 'append', records });
      const ack = await child.next<{ type: string; offsets: number[] }>('appended');
      assert.equal(ack.offsets, records.map((_, k) => sent.length + k));
      sent.push(...records);
      await waitFor(() => got.length === sent.length, `the reader to see ${sent.length} records (has ${got.length})`);
    }
    assert.equal(got.map((m) => m.offset), sent.map((_, i) => i));
    assert.equal(got.map(textOf), sent);

    // blockingProcess from the files, too: it waits for the child's next appends.
    q = await openAt(logDir, Whence.latest());
    const handled: string[] = [];
    const proc = q.blockingProcess(3, (m) => { handled.push(textOf(m)); return 'commit'; });
    child.send({ type: 'append', records: ['x1', 'x2', 'x3', 'x4'] });
    await child.next('appended');
    assert.equal(await proc, { committed: 3, skipped: 0, retried: 0, stoppedBy: 'limit' });
    assert.equal(handled, ['x1', 'x2', 'x3']);

    ac.abort();
    await loop;
    child.send({ type: 'close' });
    await child.next('closed');
  } finally {
    ac.abort();
    await c?.close();
    await q?.close();
    await child.kill();
  }
});

test('a blocking reader in a child process tails what this process appends, from oldest and from latest', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 2048 });
  const children: Child[] = [];
  try {
    const expected: string[] = [];
    const append = async (k: number) => {
      for (let j = 0; j < k; j++) {
        const r = `parent-${expected.length}-${'日本'.repeat(expected.length % 7)}`;
        assert.is(p.append(r), expected.length);
        expected.push(r);
      }
      await p.flush();
    };
    await append(5);
    const total = 60;
    const fromOldest = Child.fork('ipc-consumer.mjs', [logDir, 'oldest', String(total)]);
    children.push(fromOldest);
    const ready = await fromOldest.next<{ type: string; position: number }>('ready');
    assert.is(ready.position, 0);
    // Appends after the child opened, in several bursts across segment rolls.
    for (let burst = 0; burst < 5; burst++) await append(11);
    const done = await fromOldest.next<{ type: string; count: number }>('done');
    assert.is(done.count, total);
    const records = fromOldest.pending.filter((m) => m.type === 'record') as unknown as Array<{ offset: number; data: string; timestamp: number }>;
    assert.equal(records.map((r) => r.offset), expected.map((_, i) => i));
    assert.equal(records.map((r) => r.data), expected);
    assert.ok(records.every((r) => r.timestamp > Date.UTC(2020, 0, 1)));
    await fromOldest.exited;
    assert.is(fromOldest.exitInfo?.code, 0, fromOldest.stderr);

    // From latest: only what is appended after the child opened.
    const fromLatest = Child.fork('ipc-consumer.mjs', [logDir, 'latest', '7']);
    children.push(fromLatest);
    await fromLatest.next('ready');
    const before = expected.length;
    await append(3);
    await append(4);
    await fromLatest.next('done');
    const latest = fromLatest.pending.filter((m) => m.type === 'record') as unknown as Array<{ offset: number; data: string }>;
    assert.equal(latest.map((r) => r.offset), [0, 1, 2, 3, 4, 5, 6].map((k) => before + k));
    assert.equal(latest.map((r) => r.data), expected.slice(before));
  } finally {
    for (const ch of children) await ch.kill();
    await p.close();
  }
});

/** A segment or a segment being created (`<20 digits>.seg.new`) other than segment 0. */
const LATER_SEGMENT = '(?!0{20})\\d{20}\\.seg';

test('a reader in another process never judges a segment by a header read before the roll wrote it', async () => {
  // The roll is slowed while it writes the new segment's header, and the child reader is slowed after
  // it first looks at that segment (its first fsize of it), so that frames are in the new segment by
  // the time the reader gathers evidence about a header it found short.
  const logDir = tempDir();
  const plan = {
    rules: [
      { op: 'writev' as const, path: LATER_SEGMENT, thread: 'writer' as const, nth: 1, effect: { delayMs: 400 } },
      { op: 'fsize' as const, path: `${LATER_SEGMENT}$`, thread: 'main' as const, nth: 1, effect: { delayMs: 1000 } },
    ],
  };
  await withFaults(plan, async () => {
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024 });
    const child = Child.fork('ipc-consumer.mjs', [logDir, 'oldest', '35'], { execArgv: [] });
    try {
      await child.next('ready');
      // One burst past the roll size: the writer frames it into segment 0, then rolls.
      for (let i = 0; i < 30; i++) p.append(`burst-${i}-${'b'.repeat(40)}`);
      const later = (): boolean => readdirSync(logDir).some((n) => new RegExp(`^${LATER_SEGMENT}`).test(n));
      await waitFor(later, 'the roll to create the next segment');
      // While the roll is held up: records that go into the new segment right after it.
      for (let i = 30; i < 35; i++) p.append(`after-${i}`);
      await p.flush();
      const done = await child.next<{ type: string; count: number }>('done', 20_000);
      assert.is(done.count, 35);
      const offsets = child.pending.filter((m) => m.type === 'record').map((m) => m.offset);
      assert.equal(offsets, Array.from({ length: 35 }, (_, i) => i));
    } finally {
      await child.kill();
      await p.close();
    }
  });
});

test.run();
