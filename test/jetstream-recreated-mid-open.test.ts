/**
 * A clientTx consumer's open reads the stream's state twice: before it takes the cursor, and again
 * once the cursor is its own. A stream deleted and created again under the name between the two
 * reads (here while the cursor's lease is taken) was judged with the first read's creation time
 * and the second read's bounds: the cursor's offset, counting records of the earlier stream, lay
 * past the new stream's end, and the open failed with ERR_LOG_CORRUPT even with
 * onPositionExpired 'oldest'. The open now judges the new stream as an open that began after the
 * recreation does: its oldest record with 'oldest', else ERR_POSITION_EXPIRED. Skipped with a
 * printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { closeAfter, appendAll, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream stream recreated mid open');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);
const TIMEOUT_MS = 1_000;

async function filled(servers: string, stream: string, from: number, count: number): Promise<void> {
  const p = await Producer.open({ backend: jetstream({ servers, stream, timeoutMs: TIMEOUT_MS, leaseMs: 5_000 }), syncPolicy: SyncPolicy.never() });
  await closeAfter(p, () => appendAll(p, from, count));
}

/** Opens cursor billing through `servers` with `onPositionExpired`: where it starts and the texts it hands out, or the error's code. */
async function openAndRead(servers: string, stream: string, onPositionExpired?: 'oldest'): Promise<string> {
  const backend = jetstream({ servers, stream, timeoutMs: TIMEOUT_MS, leaseMs: 5_000 });
  let c: Consumer;
  try {
    c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('billing'), ...(onPositionExpired === undefined ? {} : { onPositionExpired }) });
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  const got: string[] = [];
  try {
    const at = c.nextOffset;
    await within(c.nonblockingProcess(null, (m) => { got.push(Buffer.from(m.data).toString()); return 'commit'; }), 8 * TIMEOUT_MS, 'the call');
    return `at ${at}: ${got.join(',')}`;
  } finally {
    await c.close();
  }
}

/** Recreates `stream` with `count` records once the open through the proxy has lost its first write of the cursor's lease. */
async function recreateMidOpen(stream: string, onPositionExpired?: 'oldest'): Promise<string> {
  await filled(server.url, stream, 0, 5);
  assert.is(await openAndRead(server.url, stream), 'at 0: r0,r1,r2,r3,r4');
  const proxy = await proxyTo(server.port);
  try {
    proxy.drop(`$KV.rl-${stream}-leases.`, 1); // the open's take of the cursor's lease is tried again a timeoutMs later
    const opening = openAndRead(proxy.url, stream, onPositionExpired);
    await waitFor(() => proxy.dropped() === 1, 'the open to take the lease');
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(stream);
    } finally {
      await nc.close();
    }
    await filled(server.url, stream, 100, 2);
    return await within(opening, 8 * TIMEOUT_MS, 'Consumer.open');
  } finally {
    await proxy.close();
  }
}

test('a stream recreated between the open\'s two reads of it starts at its oldest record with onPositionExpired oldest', async () => {
  assert.is(await recreateMidOpen(`rmo-oldest-${process.pid}`, 'oldest'), 'at 0: r100,r101');
});

test('a stream recreated between the open\'s two reads of it fails the open with ERR_POSITION_EXPIRED', async () => {
  assert.is(await recreateMidOpen(`rmo-expired-${process.pid}`), 'ERR_POSITION_EXPIRED');
});

runOrSkip(test, 'jetstream stream recreated mid open');
