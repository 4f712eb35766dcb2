/**
 * The server's JetStream storage full (its `max_file_store` reached; not the stream's own limits):
 * nats-server refuses each new record with "insufficient resources" (10023) before storing it. As
 * for a full "discard new" stream (jetstream-discard-new-full.test.ts), the producer stops at the
 * first record refused with ERR_DISK_FULL naming it, every record before it acknowledged, none from
 * it on stored; not ERR_IO "may or may not be stored" when the server said it refused. Skipped with
 * a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, throwsWith } from './kit.js';
import { coded, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream server store full');
let server: NatsServer;
test.before(async () => { server = await startNats(15_000, undefined, 'jetstream { max_file_store: 200000 }\n'); });
test.after(stopAllNats);

test('the server\'s file store full stops the producer with ERR_DISK_FULL at the first record refused', async () => {
  const stream = `jssf-${process.pid}`;
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream, leaseMs: 10_000, timeoutMs: 2_000 }), syncPolicy: SyncPolicy.never() });
  let failure: unknown = null;
  try {
    // 1,000-byte records, 50 at a time, until the server refuses one (200,000 bytes hold at most 200).
    for (let i = 0; i < 400 && failure === null; i += 50) {
      for (let j = 0; j < 50; j++) p.append(Buffer.alloc(1000, j));
      failure = await within(p.flush(), 10_000, 'flush').then(() => null, (e: unknown) => e);
    }
    assert.ok(failure !== null, 'the server refused a record');
    const code = coded(failure, 'flush of a record the full server refused');
    assert.is(code, 'ERR_DISK_FULL', `a refusal by the server is ERR_DISK_FULL: ${(failure as Error).message}`);
    const e = failure as Error & { details?: { offset?: number } };
    assert.is(e.details?.offset, p.durableOffset, 'the refused record named: the first not acknowledged');
    throwsWith(() => p.append('more'), 'ERR_DISK_FULL');
    const nc = await connect({ servers: server.url });
    try {
      const state = (await (await jetstreamManager(nc)).streams.info(stream)).state;
      assert.is(state.last_seq, p.durableOffset, 'every record before it stored, none from it on');
    } finally {
      await nc.close();
    }
  } finally {
    await p.destroy().catch(() => undefined);
  }
});

runOrSkip(test, 'jetstream server store full');
