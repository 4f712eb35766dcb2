/**
 * A Consumer.open on JetStream that is refused leaves its cursor as it was. A cursor that never
 * committed, passed over by a purge, is moved to the log's start by the open; an open aborted while
 * it moved it rejected with ERR_ABORTED but left the move committed, and the cursor
 * then counted as committed: after the next purge its open failed with ERR_POSITION_EXPIRED instead
 * of starting at the oldest record. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream open abort cursor');
let server: NatsServer;
let nc: NatsConnection;
test.before(async () => {
  server = await startNats();
  nc = await connect({ servers: server.url });
});
test.after(async () => {
  await nc.close();
  await stopAllNats();
});

async function purgeKeeping(stream: string, keep: number): Promise<void> {
  await (await jetstreamManager(nc)).streams.purge(stream, { keep });
}

/**
 * The cursor entry's value, as JSON, without its writer (`w`): an open writes the entry back under
 * its own name, its offset, state and freshness as they were (it fences an earlier owner off).
 */
async function entryOf(stream: string, key: string): Promise<Record<string, unknown> | null> {
  const kv = await new Kvm(nc).open(`rl-${stream}-cursors`);
  const e = await kv.get(key);
  if (e === null) return null;
  const { w: _writer, ...value } = JSON.parse(Buffer.from(e.value).toString()) as Record<string, unknown>;
  return value;
}

type Request = NatsConnection['request'];

test('an open aborted after it took a never-committed cursor passed over by a purge leaves the entry as it was', async () => {
  const stream = `openabort-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 5_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < 6; i++) p.append(`r${i}`);
  await p.close();
  await (await Consumer.open({ backend, style: ConsumerStyle.clientTx('idle') })).close(); // created at 0, never committed
  const before = await entryOf(stream, 'client.idle');
  assert.is(before?.fresh, true);
  await purgeKeeping(stream, 3); // the log starts at offset 3
  // The signal aborts once the open holds the cursor (it read the entry), as it reads the stream's
  // bounds again: every connection's requests go through the prototype, the backend's own too.
  const proto = Object.getPrototypeOf(nc) as { request: Request };
  const original = proto.request;
  const controller = new AbortController();
  let readCursor = false;
  proto.request = function (this: NatsConnection, subject, ...rest) {
    if (subject.includes(`rl-${stream}-cursors`)) readCursor = true;
    else if (readCursor && subject === `$JS.API.STREAM.INFO.${stream}`) controller.abort(new Error('the caller gave up'));
    return original.call(this, subject, ...rest);
  } as Request;
  try {
    await rejectsWith(Consumer.open({ backend, style: ConsumerStyle.clientTx('idle'), signal: controller.signal }), 'ERR_ABORTED');
  } finally {
    proto.request = original;
  }
  assert.ok(controller.signal.aborted, 'the open read the bounds after the cursor');
  assert.equal(await entryOf(stream, 'client.idle'), before, 'the entry\'s offset, state and freshness are as before the refused open');
  // Still never committed: after the next purge, the open starts at the oldest record.
  await purgeKeeping(stream, 1); // the log starts at offset 5
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('idle') });
  try {
    const got: string[] = [];
    await c.nonblockingProcess(null, (m) => { got.push(Buffer.from(m.data).toString()); return 'commit'; });
    assert.equal(got, ['r5']);
  } finally {
    await c.close();
  }
});

runOrSkip(test, 'jetstream open abort cursor');
