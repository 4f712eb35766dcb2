/**
 * A stream made beforehand with the "discard new" policy and its own limits (`max_msgs`,
 * `max_bytes`), opened by a producer that sets no `maxTotalBytes`: once the stream is full the
 * server refuses each new record ("maximum messages exceeded", "maximum bytes exceeded"). The
 * records appended after it were given their offsets already, so the producer stops at that record,
 * as a local producer stops when its disk is full: ERR_DISK_FULL naming the record (not ERR_IO, "may
 * or may not be stored"), every record before it acknowledged, none from it on stored. Skipped with
 * a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { DiscardPolicy, jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite, throwsWith } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream discard-new stream full');
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

async function fill(limits: Partial<StreamConfig>, records: number[], full: number): Promise<void> {
  const stream = `jdnf-${process.pid}-${++n}`;
  await withJsm((jsm) => jsm.streams.add({ name: stream, subjects: [`rl.${stream}`], discard: DiscardPolicy.New, ...limits }));
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream, leaseMs: 5_000 }), syncPolicy: SyncPolicy.never() });
  try {
    records.forEach((bytes, i) => assert.is(p.append(Buffer.alloc(bytes, i)), i));
    const e = await rejectsWith(p.flush(), 'ERR_DISK_FULL') as Error & { details?: { offset?: number } };
    assert.is(e.details?.offset, full, 'the refused record named');
    assert.match(e.message, /discard/);
    assert.is(p.durableOffset, full, 'the records before it acknowledged');
    assert.is((p.error as { code?: string } | null)?.code, 'ERR_DISK_FULL');
    throwsWith(() => p.append('more'), 'ERR_DISK_FULL');
    const state = await withJsm(async (jsm) => (await jsm.streams.info(stream)).state);
    assert.is(state.last_seq, full, 'nothing from the refused record on is stored');
  } finally {
    await p.destroy().catch(() => undefined);
  }
}

test('a stream full by its max_msgs stops the producer with ERR_DISK_FULL at the first record refused', async () => {
  await fill({ max_msgs: 3 }, [10, 10, 10, 10, 10], 3);
});

test('a stream full by its max_bytes stops the producer with ERR_DISK_FULL at the first record refused', async () => {
  await fill({ max_bytes: 2048 }, [600, 600, 600, 600, 600], 2);
});

runOrSkip(test, 'jetstream discard-new stream full');
