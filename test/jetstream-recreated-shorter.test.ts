/**
 * A consumer whose stream is deleted and created again under the same name, the new stream holding
 * fewer records than the consumer had read of the old one: its offsets start over below the
 * consumer's, so the consumer's next call fails with ERR_POSITION_EXPIRED. A nonblocking call read
 * the new stream's end, took it as below its own position and ended as at the log's end, handing out
 * nothing and saying nothing (each call, until the new stream grew past the old offset); a running
 * blocking call waited on (no record of the new stream comes at the old offsets), its pull never
 * made again. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite, waitFor } from './kit.js';
import { closeAfter, appendAll, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream stream recreated shorter');
let server: NatsServer;
let n = 0;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);
const TIMEOUT_MS = 2_000;
const fresh = () => {
  const stream = `srs-${process.pid}-${++n}`;
  return { stream, backend: jetstream({ servers: server.url, stream, timeoutMs: TIMEOUT_MS, leaseMs: 5_000 }) };
};

async function recreate(stream: string, backend: ReturnType<typeof jetstream>, count: number): Promise<void> {
  const nc = await connect({ servers: server.url });
  try {
    await (await jetstreamManager(nc)).streams.delete(stream);
  } finally {
    await nc.close();
  }
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  await closeAfter(p, () => appendAll(p, 100, count)); // offsets 0..count-1 of the new stream
}

const styles = () => [ConsumerStyle.clientTx('billing'), ConsumerStyle.nonTx(Whence.oldest())];

test('a nonblocking call after the stream was created again with fewer records: ERR_POSITION_EXPIRED, not the log\'s end', async () => {
  for (const style of styles()) {
    const { stream, backend } = fresh();
    const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
    await closeAfter(p, () => appendAll(p, 0, 10));
    const c = await Consumer.open({ backend, style });
    try {
      assert.is((await c.nonblockingProcess(null, () => 'commit')).committed, 10);
      await recreate(stream, backend, 3);
      const got: number[] = [];
      const e = await rejectsWith(within(c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; }), 4 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
      assert.match(e.message, /created again/);
      assert.equal(got, []);
    } finally {
      await c.close().catch(() => undefined);
    }
  }
});

/**
 * For each style: a blocking call that has read the stream's 10 records, then `recreateIt` deletes
 * the stream and makes it again with fewer: the call fails with ERR_POSITION_EXPIRED, no hang.
 */
async function blockingCallThrough(recreateIt: (stream: string, backend: ReturnType<typeof jetstream>) => Promise<void>): Promise<void> {
  for (const style of styles()) {
    const { stream, backend } = fresh();
    const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
    await closeAfter(p, () => appendAll(p, 0, 10));
    const c = await Consumer.open({ backend, style });
    const got: number[] = [];
    const run = c.blockingProcess(null, (m) => { got.push(m.offset); return 'commit'; });
    try {
      await waitFor(() => got.length === 10, 'the first stream read', 4 * TIMEOUT_MS);
      await recreateIt(stream, backend);
      const e = await rejectsWith(within(run, 6 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
      assert.match(e.message, /created again/);
      assert.is(got.length, 10);
    } finally {
      await c.close().catch(() => undefined);
      await run.catch(() => undefined);
    }
  }
}

test('a running blocking call when the stream is created again with fewer records: ERR_POSITION_EXPIRED, no hang', async () => {
  await blockingCallThrough((stream, backend) => recreate(stream, backend, 3));
});

test('a running blocking call when the stream is created again at once (nats.js makes its consumer again on the new stream): ERR_POSITION_EXPIRED, no hang', async () => {
  // The pull's own stall watchdog (its interval function is named `watch`) made 8 times slower, so
  // that the client's check of its consumer comes first, as it can on a loaded machine: the
  // consumer the client makes again must be noticed by its own signal, not by a stall.
  const realSetInterval = globalThis.setInterval;
  globalThis.setInterval = ((fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) =>
    realSetInterval(fn, fn.name === 'watch' ? (ms ?? 0) * 8 : ms, ...rest)) as typeof setInterval;
  try {
    // Deleted and made again with the same configuration within milliseconds: the client's own
    // check of its ordered consumer (missed heartbeats, "consumer not found") makes it again on the
    // new stream, whose heartbeats then come while no record does.
    await blockingCallThrough(async (stream) => {
      const nc = await connect({ servers: server.url });
      try {
        const jsm = await jetstreamManager(nc);
        const { config } = await jsm.streams.info(stream);
        await jsm.streams.delete(stream);
        await jsm.streams.add(config);
      } finally {
        await nc.close();
      }
    });
  } finally {
    globalThis.setInterval = realSetInterval;
  }
});

runOrSkip(test, 'jetstream stream recreated shorter');
