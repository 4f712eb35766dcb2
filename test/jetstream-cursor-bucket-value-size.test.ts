/**
 * The cursors bucket (`rl-<stream>-cursors`) may exist before the first consumer opens, made with a
 * max_value_size of its own, smaller than the server's max_payload. ctx.setState took a state up to
 * what max_payload allows: its commit was refused by the bucket, failed with ERR_IO, and the consumer
 * could commit nothing more (close() failed too). setState now refuses, with ERR_INVALID_OPTION
 * naming `state`, a state past what the bucket takes with the cursor, and the consumer goes on; a
 * bucket too small for any cursor entry is refused at the open. Skipped with a printed reason
 * without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstream as jsClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream cursors bucket max_value_size');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(async () => { await stopAllNats(); });

/** Makes the cursors bucket of `stream` beforehand, with a max_value_size of `bytes`. */
async function smallBucket(stream: string, bytes: number): Promise<void> {
  const nc = await connect({ servers: server.url });
  try {
    await new Kvm(jsClient(nc)).create(`rl-${stream}-cursors`, { history: 1, maxValueSize: bytes });
  } finally {
    await nc.close();
  }
}

test('setState refuses a state the bucket cannot store with the cursor; the consumer goes on', async () => {
  const stream = `cbv-${process.pid}`;
  await smallBucket(stream, 4096);
  const backend = jetstream({ servers: server.url, stream, leaseMs: 3_000, timeoutMs: 2_000 });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 3; i++) p.append(`r${i}`);
  await p.close();
  const c = await Consumer.open({ backend, style: ConsumerStyle.globalTx() });
  const seen: { refused: { code?: string; message?: string; details?: { option?: string } } | null } = { refused: null };
  try {
    const s = await within(c.nonblockingProcess(null, (m, ctx) => {
      if (m.offset === 1) {
        try {
          ctx.setState(new Uint8Array(10_000).fill(7));
        } catch (e) {
          seen.refused = e as typeof seen.refused;
        }
        // The largest state the error names is committed.
        ctx.setState(new Uint8Array(Number(/at most (\d+) bytes/.exec(seen.refused?.message ?? '')?.[1] ?? 0)).fill(9));
      }
      return 'commit';
    }), 20_000, 'the call');
    assert.equal(s, { committed: 3, skipped: 0, retried: 0, stoppedBy: 'end' });
    assert.is(seen.refused?.code, 'ERR_INVALID_OPTION', 'setState refuses a state too large for the bucket');
    assert.is(seen.refused?.details?.option, 'state');
    assert.is(c.committedOffset, 3);
  } finally {
    await within(c.close(), 20_000, 'close');
  }
  const again = await Consumer.open({ backend, style: ConsumerStyle.globalTx() });
  try {
    assert.is(again.committedOffset, 3);
    const limit = Number(/at most (\d+) bytes/.exec(seen.refused?.message ?? '')?.[1]);
    assert.ok(limit > 2_000 && limit < 4_096, `the limit ${limit}`);
    assert.is(again.state?.byteLength, limit, 'the largest state was committed with the cursor');
  } finally {
    await again.close();
  }
});

test('a cursors bucket too small for a cursor entry is refused at the open, clearly', async () => {
  const stream = `cbv-tiny-${process.pid}`;
  await smallBucket(stream, 100);
  const backend = jetstream({ servers: server.url, stream, leaseMs: 3_000, timeoutMs: 2_000 });
  const e = await rejectsWith(within(Consumer.open({ backend, style: ConsumerStyle.clientTx('a') }), 20_000, 'open'), 'ERR_INVALID_OPTION');
  assert.match(e.message, /max_value_size/);
  assert.match(e.message, new RegExp(`rl-${stream}-cursors`));
});

runOrSkip(test, 'jetstream cursors bucket max_value_size');
