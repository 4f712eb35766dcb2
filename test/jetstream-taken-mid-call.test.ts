/**
 * A consumer whose cursor lease renewal finds another holder while a processing call or an iteration
 * runs hands out no record more in that call: it rejects with ERR_CURSOR_LOCKED before the next
 * handler runs (or the next attempt of a record being retried). It ran on:
 * with group commit, every record up to the group's end went through A's handler (all of them the
 * new owner's) and the call failed only at its commit; a blocking call or a `for await` loop handed
 * out the records appended after the takeover, each failing only at its commit; a record answered
 * with 'retry' was tried again and again. The check was made at a call's start only
 * (jetstream-taken-no-record.test.ts). Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, type LogBackend } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { intrudeOnLease } from './lease-kit.js';
import { closeAfter, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream consumer taken over during a call');
/** The shortest lease: A's renewal (every leaseMs / 3) finds the takeover within a second (the other JetStream files use 5 s). */
const TAKEOVER_LEASE_MS = 1_000;
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** The consumer's cursor lease, internal: whether a renewal found it taken. */
const takenOver = (c: Consumer): boolean => (c as unknown as { feed: { cursor: { lease: { takenOver: boolean } } } }).feed.cursor.lease.takenOver;

let streams = 0;

/** A stream of `n` records, and its backend (TAKEOVER_LEASE_MS). */
async function streamOf(n: number): Promise<{ backend: LogBackend; stream: string }> {
  const stream = `taken-mid-${process.pid}-${++streams}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: TAKEOVER_LEASE_MS });
  const p = await Producer.open({ backend });
  await closeAfter(p, () => { for (let i = 0; i < n; i++) p.append(`r${i}`); });
  return { backend, stream };
}

/** A's lease taken by another holder (intrudeOnLease), then B opens. */
async function takeOver(stream: string, backend: LogBackend, a: Consumer): Promise<Consumer> {
  await intrudeOnLease(server.url, stream, 'cursor.client.c', () => takenOver(a));
  return Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
}

/** What a call ended with: its error's code, or 'resolved'. */
const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: unknown) => (e as { code?: string }).code ?? String(e));

/** B hands out every record from `from` on, once. */
async function bHandsOutAll(b: Consumer, from: number, n: number): Promise<void> {
  const seen: number[] = [];
  await b.nonblockingProcess(null, (m) => { seen.push(m.offset); return 'commit'; });
  assert.equal(seen, Array.from({ length: n - from }, (_, i) => from + i), 'B hands out each record once');
}

test('group commit: the records after the takeover do not go through the old owner\'s handler', async () => {
  const { backend, stream } = await streamOf(6);
  const a = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c'), commit: { everyRecords: 100 } });
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let entered = false;
  const seen: number[] = [];
  const aRun = outcome(a.nonblockingProcess(null, async (m) => {
    seen.push(m.offset);
    if (m.offset === 0) { entered = true; await gate; }
    return 'commit' as const;
  }));
  await waitFor(() => entered, 'A\'s handler to start');
  const b = await takeOver(stream, backend, a);
  try {
    release();
    assert.is(await within(aRun, 10_000, 'A\'s call'), 'ERR_CURSOR_LOCKED');
    assert.equal(seen, [0], 'A ran no handler after its renewal found B holding the cursor');
    await bHandsOutAll(b, 0, 6);
  } finally {
    await b.close();
    await a.destroy();
  }
});

test('a blocking call waiting for records: records appended after the takeover are not handed out to the old owner', async () => {
  const { backend, stream } = await streamOf(2);
  const a = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
  const seen: number[] = [];
  const aRun = outcome(a.blockingProcess(null, (m) => { seen.push(m.offset); return 'commit'; }));
  await waitFor(() => a.committedOffset === 2, 'A to commit the first two records');
  const b = await takeOver(stream, backend, a);
  try {
    const p = await Producer.open({ backend });
    for (let i = 2; i < 5; i++) p.append(`r${i}`);
    await p.close();
    assert.is(await within(aRun, 10_000, 'A\'s call'), 'ERR_CURSOR_LOCKED');
    assert.equal(seen, [0, 1], 'A handed out none of the records appended after B took the cursor');
    await bHandsOutAll(b, 2, 5);
  } finally {
    await b.close();
    await a.destroy();
  }
});

test('for await with group commit: the loop ends with ERR_CURSOR_LOCKED instead of handing out the new owner\'s records', async () => {
  const { backend, stream } = await streamOf(2);
  const a = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c'), commit: { everyRecords: 100 } });
  const seen: number[] = [];
  let b: Consumer | null = null;
  const aRun = outcome((async () => {
    for await (const m of a) {
      seen.push(m.offset);
      if (m.offset === 1) {
        b = await takeOver(stream, backend, a);
        const p = await Producer.open({ backend });
        for (let i = 2; i < 5; i++) p.append(`r${i}`);
        await p.close();
      }
    }
  })());
  try {
    assert.is(await within(aRun, 10_000, 'A\'s loop'), 'ERR_CURSOR_LOCKED');
    assert.equal(seen, [0, 1], 'A handed out none of the records B now owns');
    assert.ok(b !== null);
    // A's group was not due, but a commit is made before a wait for records: when record 1 came in
    // a later delivery than record 0, A committed record 0 before it waited. B goes on from there.
    const from = (b as Consumer).committedOffset;
    assert.ok(from === 0 || from === 1, `B opened at ${from}: A committed at most the record before its wait`);
    await bHandsOutAll(b, from, 5);
  } finally {
    await (b as Consumer | null)?.close();
    await a.destroy();
  }
});

test('a record being retried is not tried again once the cursor is taken over', async () => {
  const { backend, stream } = await streamOf(3);
  const a = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c'), retry: { delayMs: 20 } });
  let attempts = 0;
  const aRun = outcome(a.nonblockingProcess(null, () => { attempts++; return 'retry'; }));
  try {
    await waitFor(() => attempts >= 2, 'A to retry record 0');
    const b = await takeOver(stream, backend, a);
    try {
      const before = attempts;
      assert.is(await within(aRun, 10_000, 'A\'s call'), 'ERR_CURSOR_LOCKED');
      assert.ok(attempts <= before + 1, `A tried record 0 again ${attempts - before} times after its renewal found B holding the cursor`);
      await bHandsOutAll(b, 0, 3);
    } finally {
      await b.close();
    }
  } finally {
    await a.destroy();
  }
});

runOrSkip(test, 'jetstream consumer taken over during a call');
