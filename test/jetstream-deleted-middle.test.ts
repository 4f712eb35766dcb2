/**
 * A message deleted from the middle of a log's stream (another client's `deleteMessage`, `nats stream
 * rmm`): a reader hands out the records before it, then stops with ERR_POSITION_EXPIRED naming the
 * deleted offsets and where the next stored record is; every later call of that consumer says the same
 * (never a silent skip). Opened again with onPositionExpired 'oldest', a cursor (clientTx, globalTx) or
 * a Whence.position pointing at the deleted record goes on at the next stored record, and the cursor
 * is moved there; with 'error' (the default) the open's first call fails the same way again.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type ConsumerStyle as Style } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { closeAfter, appendAll, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream deleted middle');
let server: NatsServer;
let n = 0;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);
const TIMEOUT_MS = 2_000;

/** A stream of records 0..9 whose offsets `deleted` were deleted by another client. */
async function streamWithDeleted(deleted: number[]): Promise<ReturnType<typeof jetstream>> {
  const stream = `dm-${process.pid}-${++n}`;
  const backend = jetstream({ servers: server.url, stream, timeoutMs: TIMEOUT_MS, leaseMs: 5_000 });
  await closeAfter(await Producer.open({ backend, syncPolicy: SyncPolicy.never() }), (p) => appendAll(p, 0, 10));
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const o of deleted) await jsm.streams.deleteMessage(stream, o + 1);
  } finally {
    await nc.close();
  }
  return backend;
}

/** Runs one nonblocking call, returning the offsets handed out and the error it ended with (or null). */
async function drain(c: Consumer): Promise<{ got: number[]; error: Error | null }> {
  const got: number[] = [];
  try {
    await within(c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; }), 4 * TIMEOUT_MS, 'the call');
    return { got, error: null };
  } catch (e) {
    return { got, error: e as Error };
  }
}

for (const [name, style] of [['clientTx', ConsumerStyle.clientTx('mid')], ['globalTx', ConsumerStyle.globalTx()]] as Array<[string, Style]>) {
  test(`${name}: the records before the deleted ones, then ERR_POSITION_EXPIRED on each call; opened with 'oldest', it goes on past them`, async () => {
    const backend = await streamWithDeleted([4, 5]);
    const c = await Consumer.open({ backend, style });
    try {
      const first = await drain(c);
      assert.equal(first.got, [0, 1, 2, 3]);
      assert.is((first.error as { code?: string } | null)?.code, 'ERR_POSITION_EXPIRED');
      assert.match(first.error!.message, /offsets 4 to 5/);
      assert.match(first.error!.message, /'oldest'/, 'the message says how to go on');
      assert.is(c.committedOffset, 4);
      await rejectsWith(c.nonblockingProcess(null, () => 'commit'), 'ERR_POSITION_EXPIRED'); // never a silent skip
    } finally {
      await c.close();
    }
    // Opened again with the default: the first call says the same.
    const again = await Consumer.open({ backend, style });
    try {
      assert.is(again.nextOffset, 4);
      await rejectsWith(within(again.nonblockingProcess(null, () => 'commit'), 4 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
    } finally {
      await again.close();
    }
    // With 'oldest': on at the next stored record, the cursor moved there.
    const past = await Consumer.open({ backend, style, onPositionExpired: 'oldest' });
    try {
      assert.is(past.nextOffset, 6);
      assert.is(past.committedOffset, 6);
      const rest = await drain(past);
      assert.is(rest.error, null);
      assert.equal(rest.got, [6, 7, 8, 9]);
      assert.is(past.committedOffset, 10);
    } finally {
      await past.close();
    }
  });
}

test('nonTx from a Whence.position at a deleted record: ERR_POSITION_EXPIRED, or with \'oldest\' the next stored record', async () => {
  const backend = await streamWithDeleted([3]);
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.position(3)) });
  try {
    const e = await rejectsWith(within(c.nonblockingProcess(null, () => 'commit'), 4 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
    assert.match(e.message, /offsets 3 to 3/);
  } finally {
    await c.close();
  }
  const past = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.position(3)), onPositionExpired: 'oldest' });
  try {
    assert.is(past.nextOffset, 4);
    const rest = await drain(past);
    assert.is(rest.error, null);
    assert.equal(rest.got, [4, 5, 6, 7, 8, 9]);
  } finally {
    await past.close();
  }
});

test('a cursor at a record deleted at the stream\'s end: \'oldest\' starts at the end, and waits for the next record', async () => {
  const backend = await streamWithDeleted([8, 9]);
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('end') });
  try {
    const first = await drain(c);
    assert.equal(first.got, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.is((first.error as { code?: string } | null)?.code, 'ERR_POSITION_EXPIRED');
  } finally {
    await c.close();
  }
  const past = await Consumer.open({ backend, style: ConsumerStyle.clientTx('end'), onPositionExpired: 'oldest' });
  try {
    assert.is(past.nextOffset, 10);
    const rest = await drain(past);
    assert.is(rest.error, null);
    assert.equal(rest.got, []);
  } finally {
    await past.close();
  }
});

runOrSkip(test, 'jetstream deleted middle');
