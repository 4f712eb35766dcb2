/**
 * A stream's max_msg_size lowered by someone else after the producer opened: the producer checked
 * records against the size it read at open, so a record past the new size is published and refused
 * by the server ("message size exceeds maximum allowed"). Its offset and those after it were handed
 * out already, so the producer cannot go on without it: it stops with ERR_RECORD_TOO_LARGE naming
 * that record (not ERR_IO, "may or may not be stored"), with every record before it acknowledged
 * and none from it on stored. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite, throwsWith } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream max_msg_size lowered after open');
let server: NatsServer;
let n = 0;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

async function withJsm<T>(fn: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: server.url });
  try {
    return await fn(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

test('a record past a max_msg_size lowered since the open stops the producer with ERR_RECORD_TOO_LARGE at its offset', async () => {
  const stream = `jmmsl-${process.pid}-${++n}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 5_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  try {
    p.append('first');
    await p.flush();
    await withJsm(async (jsm) => {
      const { config } = await jsm.streams.info(stream);
      await jsm.streams.update(stream, { ...config, max_msg_size: 4096 });
    });
    assert.is(p.append('a'), 1);
    assert.is(p.append(Buffer.alloc(5000, 1)), 2, 'checked against the size known at open');
    assert.is(p.append('b'), 3);
    const e = await rejectsWith(p.flush(), 'ERR_RECORD_TOO_LARGE') as Error & { details?: { offset?: number } };
    assert.is(e.details?.offset, 2, 'the refused record named');
    assert.match(e.message, /max_msg_size/);
    assert.is(p.durableOffset, 2, 'the records before it acknowledged');
    throwsWith(() => p.append('c'), 'ERR_RECORD_TOO_LARGE');
    const state = await withJsm(async (jsm) => (await jsm.streams.info(stream)).state);
    assert.is(state.last_seq, 2, 'nothing from the refused record on is stored');
  } finally {
    await p.destroy().catch(() => undefined);
  }
});

runOrSkip(test, 'jetstream max_msg_size lowered after open');
