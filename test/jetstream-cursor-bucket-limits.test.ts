/**
 * The cursors bucket (`rl-<stream>-cursors`) may exist before the first consumer opens, made by the
 * user or an older version with limits of its own: a max age (a KV TTL), or a max_msgs / max_bytes
 * with the "discard old" policy. The server then removes committed cursor entries on its own: an
 * entry older than the max age expires, and each new cursor's entry pushes the oldest one out. The
 * open found no entry and started the cursor afresh at the oldest record: every record committed
 * before was handed out again. Such a bucket is refused at the open with ERR_INVALID_OPTION naming
 * the setting. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { DiscardPolicy, jetstream as jsClient, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { closeAfter, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream cursors bucket limits');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(async () => { await stopAllNats(); });

/** Makes the cursors bucket of `stream` beforehand, with a TTL of `ttl` ms, then applies `limits` to its stream. */
async function bucketWith(stream: string, ttl: number, limits: Record<string, unknown> = {}): Promise<void> {
  const nc = await connect({ servers: server.url });
  try {
    await new Kvm(jsClient(nc)).create(`rl-${stream}-cursors`, { history: 1, ttl });
    if (Object.keys(limits).length > 0) {
      const jsm = await jetstreamManager(nc);
      const name = `KV_rl-${stream}-cursors`;
      await jsm.streams.update(name, { ...(await jsm.streams.info(name)).config, ...limits });
    }
  } finally {
    await nc.close();
  }
}

/** Whether cursor `name`'s entry is in the cursors bucket of `stream`. */
async function entryStored(stream: string, name: string): Promise<boolean> {
  const nc = await connect({ servers: server.url });
  try {
    const kv = await new Kvm(jsClient(nc)).open(`rl-${stream}-cursors`);
    const e = await kv.get(name);
    return e !== null && e.operation === 'PUT';
  } finally {
    await nc.close();
  }
}

async function produce(stream: string, n: number): Promise<void> {
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream, leaseMs: 3_000, timeoutMs: 2_000 }) });
  await closeAfter(p, () => { for (let i = 0; i < n; i++) p.append(`r${i}`); });
}

/** Opens cursor `name`: `refused <code> <message>`, or where it starts (`at <offset>`), after committing every record when `consume`. */
async function openCursor(stream: string, name: string, consume: boolean): Promise<string> {
  const backend = jetstream({ servers: server.url, stream, leaseMs: 3_000, timeoutMs: 2_000 });
  let c: Consumer;
  try {
    c = await within(Consumer.open({ backend, style: ConsumerStyle.clientTx(name) }), 20_000, 'open');
  } catch (e) {
    return `refused ${(e as { code?: string }).code} ${(e as Error).message}`;
  }
  try {
    const at = c.nextOffset;
    if (consume) await within(c.nonblockingProcess(null, () => 'commit'), 20_000, 'the call');
    return `at ${at}`;
  } finally {
    await within(c.close(), 20_000, 'close');
  }
}

test('a cursors bucket with a max age is refused: a committed cursor would expire and start again at the oldest record', async () => {
  const stream = `cbl-age-${process.pid}`;
  await bucketWith(stream, 1_000);
  await produce(stream, 3);
  const first = await openCursor(stream, 'a', true);
  if (first.startsWith('at ')) {
    // What the refusal spares: the committed cursor expires, and the next open replays every record.
    await waitFor(async () => !await entryStored(stream, 'client.a'), 'the cursor entry to expire');
    const again = await openCursor(stream, 'a', false);
    assert.unreachable(`a bucket with a max age was taken; cursor a, committed at 3, opened again ${again}`);
  }
  assert.match(first, /^refused ERR_INVALID_OPTION /);
  assert.match(first, /max age|max_age/);
  assert.match(first, new RegExp(`rl-${stream}-cursors`));
});

test('a cursors bucket with max_msgs and discard old is refused: a new cursor would push a committed one out', async () => {
  const stream = `cbl-msgs-${process.pid}`;
  await bucketWith(stream, 0, { max_msgs: 1, discard: DiscardPolicy.Old });
  await produce(stream, 3);
  const first = await openCursor(stream, 'a', true);
  if (first.startsWith('at ')) {
    await openCursor(stream, 'b', false);
    const again = await openCursor(stream, 'a', false);
    assert.unreachable(`a bucket with max_msgs 1 was taken; cursor a, committed at 3, opened again ${again}`);
  }
  assert.match(first, /^refused ERR_INVALID_OPTION /);
  assert.match(first, /max_msgs/);
});

test('a cursors bucket with max_bytes and discard old is refused', async () => {
  const stream = `cbl-bytes-${process.pid}`;
  await bucketWith(stream, 0, { max_bytes: 1_000_000, discard: DiscardPolicy.Old });
  await produce(stream, 1);
  const first = await openCursor(stream, 'a', false);
  assert.match(first, /^refused ERR_INVALID_OPTION /);
  assert.match(first, /max_bytes/);
});

test('a cursors bucket with limits and discard new is taken: the server refuses a write instead of dropping an entry', async () => {
  const stream = `cbl-new-${process.pid}`;
  await bucketWith(stream, 0, { max_msgs: 1000, max_bytes: 1_000_000, discard: DiscardPolicy.New });
  await produce(stream, 3);
  assert.is(await openCursor(stream, 'a', true), 'at 0');
  assert.is(await openCursor(stream, 'a', false), 'at 3');
});

runOrSkip(test, 'jetstream cursors bucket limits');
