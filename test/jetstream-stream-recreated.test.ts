/**
 * A clientTx cursor whose stream was deleted and created again under the same name: the cursors
 * bucket outlives the stream, so the entry's offset counts records of the earlier stream. An open
 * must not start the new stream's records at that offset (passing over those below it, no error):
 * ERR_POSITION_EXPIRED, the entry left as it was, or the new stream's oldest record with
 * onPositionExpired 'oldest'. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, inspectLog } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite, waitFor } from './kit.js';
import { closeAfter, appendAll, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream stream recreated under a cursor');
let server: NatsServer;
let n = 0;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);
const TIMEOUT_MS = 2_000;
const fresh = () => {
  const stream = `sr-${process.pid}-${++n}`;
  return { stream, backend: jetstream({ servers: server.url, stream, timeoutMs: TIMEOUT_MS, leaseMs: 5_000 }) };
};

async function withJsm<T>(fn: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: server.url });
  try {
    return await fn(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

async function filled(backend: ReturnType<typeof jetstream>, from: number, count: number): Promise<void> {
  await closeAfter(await Producer.open({ backend, syncPolicy: SyncPolicy.never() }), (p) => appendAll(p, from, count));
}

/** Handles the records up to `max` (null: to the end) with a clientTx consumer; returns their texts. */
async function handle(backend: ReturnType<typeof jetstream>, max: number | null, onPositionExpired?: 'oldest'): Promise<string[]> {
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('billing'), ...(onPositionExpired === undefined ? {} : { onPositionExpired }) });
  const got: string[] = [];
  try {
    await within(c.nonblockingProcess(max, (m, ctx) => {
      got.push(Buffer.from(m.data).toString());
      ctx.setState(new TextEncoder().encode(`seen ${got.length}`));
      return 'commit';
    }), 4 * TIMEOUT_MS, 'the call');
  } finally {
    await c.close();
  }
  return got;
}

async function committedOffset(backend: ReturnType<typeof jetstream>): Promise<number | undefined> {
  return (await inspectLog({ backend })).cursors.find((c) => c.id === 'billing')?.committedOffset;
}

test('a committed cursor on a stream created again: ERR_POSITION_EXPIRED, the entry as it was; with oldest, every record of the new stream', async () => {
  const { stream, backend } = fresh();
  await filled(backend, 0, 10);
  assert.equal(await handle(backend, 5), ['r0', 'r1', 'r2', 'r3', 'r4']);
  await withJsm((jsm) => jsm.streams.delete(stream));
  await filled(backend, 100, 20); // the producer creates the stream again: offsets 0..19
  const e = await rejectsWith(Consumer.open({ backend, style: ConsumerStyle.clientTx('billing') }), 'ERR_POSITION_EXPIRED');
  assert.match(e.message, /created again|earlier stream/);
  assert.equal(await committedOffset(backend), 5, 'the refused open left the entry as it was');
  const got = await handle(backend, null, 'oldest');
  assert.equal(got, Array.from({ length: 20 }, (_, i) => `r${100 + i}`), 'every record of the new stream, none passed over');
  // Committed on the new stream: the next open goes on from its cursor, with no error.
  await filled(backend, 120, 3);
  assert.equal(await handle(backend, null), ['r120', 'r121', 'r122']);
});

test('a cursor that never committed, its stream created again: starts at the oldest record, no error', async () => {
  const { stream, backend } = fresh();
  await filled(backend, 0, 4);
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('billing') });
  await c.close();
  await withJsm((jsm) => jsm.streams.delete(stream));
  await filled(backend, 100, 3);
  assert.equal(await handle(backend, null), ['r100', 'r101', 'r102']);
});

test('a cursor whose stream was not created again opens as before', async () => {
  const { backend } = fresh();
  await filled(backend, 0, 6);
  assert.equal(await handle(backend, 3), ['r0', 'r1', 'r2']);
  assert.equal(await handle(backend, null), ['r3', 'r4', 'r5']);
});

test('the stream deleted and created again under a running blocking call: ERR_POSITION_EXPIRED, no record of the new stream handed out at an old offset', async () => {
  const { stream, backend } = fresh();
  await filled(backend, 0, 10);
  for (const style of [ConsumerStyle.clientTx('billing'), ConsumerStyle.nonTx(Whence.oldest())]) {
    const c = await Consumer.open({ backend, style });
    const got: string[] = [];
    const run = c.blockingProcess(null, (m) => { got.push(Buffer.from(m.data).toString()); return 'commit'; });
    try {
      await waitFor(() => got.length === 10, 'the first stream read', 4 * TIMEOUT_MS);
      await withJsm((jsm) => jsm.streams.delete(stream));
      await filled(backend, 100, 15); // offsets 0..14 of the new stream
      const e = await rejectsWith(within(run, 4 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
      assert.match(e.message, /created again/);
      assert.equal(got, Array.from({ length: 10 }, (_, i) => `r${i}`), 'nothing of the new stream handed out at the old offsets');
    } finally {
      await c.close(); // ends the call when it is still running
      await run.catch(() => undefined);
    }
    // The stream as the next consumer finds it: the first one's recreation, read whole from the oldest.
    await withJsm((jsm) => jsm.streams.delete(stream));
    await filled(backend, 0, 10);
  }
});

runOrSkip(test, 'jetstream stream recreated under a cursor');
