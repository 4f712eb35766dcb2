/**
 * A JetStream stream whose newest message was deleted (`nats stream rmm`): a reader hands out the
 * records before it, then stops with ERR_POSITION_EXPIRED naming the deleted offset, as for a message
 * deleted from the middle, within timeoutMs (no wait for a record that never comes, no ERR_IO as if the
 * server were away): through a handler function (the pull sees that no message follows the last one
 * delivered while it owes records), through a worker pool, and for a consumer whose position is the
 * deleted record (a read of the stream's end that reports deleted messages checks the record at the
 * reader's offset).
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { closeAfter, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream deleted tail');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);
const TIMEOUT_MS = 2_000;
const handler = fileURLToPath(new URL('./fixtures/gated-pool-handler.mjs', import.meta.url));

/** Deletes message `seq` of `stream` as an operator would (`nats stream rmm`). */
async function deleteMessage(stream: string, seq: number): Promise<void> {
  const nc = await connect({ servers: server.url });
  try {
    await (await jetstreamManager(nc)).streams.deleteMessage(stream, seq);
  } finally {
    await nc.close();
  }
}

/** A stream of records r0..r4 whose newest message (offset 4) was deleted. */
async function streamWithDeletedTail(stream: string): Promise<ReturnType<typeof jetstream>> {
  const backend = jetstream({ servers: server.url, stream, timeoutMs: TIMEOUT_MS });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  await closeAfter(p, () => { for (let i = 0; i < 5; i++) p.append(`r${i}`); });
  await deleteMessage(stream, 5);
  return backend;
}

test('a handler function: the records before the deleted newest message, then ERR_POSITION_EXPIRED at once', async () => {
  const backend = await streamWithDeletedTail(`dt-fn-${process.pid}`);
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const got: number[] = [];
  const t0 = Date.now();
  try {
    const e = await rejectsWith(within(c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; }), 4 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
    assert.match(e.message, /offsets 4 to 4/);
    assert.ok(Date.now() - t0 < TIMEOUT_MS, `ended after ${Date.now() - t0} ms`);
  } finally {
    await c.close();
  }
  assert.equal(got, [0, 1, 2, 3]);
});

test('a worker pool: ERR_POSITION_EXPIRED within timeoutMs, nothing committed past the deleted record', async () => {
  const backend = await streamWithDeletedTail(`dt-pool-${process.pid}`);
  const gateDir = mkdtempSync(join(tmpdir(), 'rl-deleted-tail-'));
  process.env.RL_TEST_GATE = join(gateDir, 'open');
  writeFileSync(process.env.RL_TEST_GATE, ''); // every record commits at once
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('dt') });
  const t0 = Date.now();
  try {
    const e = await rejectsWith(within(c.nonblockingProcess(null, handler, { workers: 1 }), 4 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
    assert.match(e.message, /offsets 4 to 4/);
    assert.ok(Date.now() - t0 < TIMEOUT_MS, `ended after ${Date.now() - t0} ms`);
    assert.ok((c.committedOffset ?? 0) <= 4, `committed past the deleted record: ${c.committedOffset}`);
  } finally {
    await c.close();
    rmSync(gateDir, { recursive: true, force: true });
  }
});

test('a consumer whose committed position is the deleted newest record: ERR_POSITION_EXPIRED at once', async () => {
  const stream = `dt-pos-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, timeoutMs: TIMEOUT_MS });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < 4; i++) p.append(`r${i}`);
  await p.flush();
  const first = await Consumer.open({ backend, style: ConsumerStyle.clientTx('pos') });
  await first.nonblockingProcess(null, () => 'commit');
  await first.close();
  p.append('r4');
  await p.close();
  await deleteMessage(stream, 5);
  const proxy = await proxyTo(server.port); // counts the consumers made
  const c = await Consumer.open({ backend: jetstream({ servers: proxy.url, stream, timeoutMs: TIMEOUT_MS }), style: ConsumerStyle.clientTx('pos') });
  const got: number[] = [];
  const t0 = Date.now();
  try {
    assert.is(c.nextOffset, 4);
    const e = await rejectsWith(within(c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; }), 4 * TIMEOUT_MS, 'the call'), 'ERR_POSITION_EXPIRED');
    assert.match(e.message, /offsets 4 to 4/);
    // At once: the read of the stream's end found the record at the reader's offset deleted, before any
    // pull was made (one would owe it, stall after three heartbeats, and only then look).
    assert.is(proxy.passed(`$JS.API.CONSUMER.CREATE.${stream}`), 0, `no pull's consumer was made (ended after ${Date.now() - t0} ms)`);
  } finally {
    await c.close();
    await proxy.close();
  }
  assert.equal(got, []);
});

runOrSkip(test, 'jetstream deleted tail');
