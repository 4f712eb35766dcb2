/**
 * lag() after a purge passed a JetStream consumer's position while its reader still holds records
 * below the stream's new first record (the pull delivered them before the purge): those records are
 * still handed out, so lag() counts them, beside the records from the stream's first one to its end
 * (a reader whose buffer stops short of the new first record then stops with ERR_POSITION_EXPIRED at
 * the removed range: test/jetstream-purge-reads.test.ts). Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { appendAll, runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream lag after a purge below buffered records');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** The object named `name` inside the consumer (its JetStream reader, its lag view). */
function inner<T>(c: Consumer, name: string): T {
  const seen = new Set<unknown>();
  const find = (o: unknown): T | null => {
    if (o === null || typeof o !== 'object' || seen.has(o)) return null;
    seen.add(o);
    if (o.constructor?.name === name) return o as T;
    for (const v of Object.values(o)) {
      const r = find(v);
      if (r !== null) return r;
    }
    return null;
  };
  const found = find(c);
  if (found === null) throw new Error(`no ${name} in the consumer`);
  return found;
}

test('lag() counts the buffered records below the purge, then the stream from its first record', async () => {
  const stream = `lpb-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, timeoutMs: 2_000, leaseMs: 5_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  await appendAll(p, 0, 100);
  await p.close();
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('held') });
  try {
    await c.nonblockingProcess(10, () => 'commit');
    const reader = inner<{ buffered: number }>(c, 'JsReader');
    await waitFor(() => reader.buffered === 90, `the pull to deliver every record (${reader.buffered} buffered)`);
    assert.is(c.lag().records, 90);
    const nc = await connect({ servers: server.url });
    try {
      await (await jetstreamManager(nc)).streams.purge(stream, { keep: 40 }); // offsets 0..59 removed
    } finally {
      await nc.close();
    }
    await inner<{ refresh(): Promise<void> }>(c, 'StreamLag').refresh(); // the view reads the purge now
    const lag = c.lag();
    // Records 10..99 are buffered: every one of them is still handed out, purge or not.
    assert.is(lag.records, 90, `lag after the purge: ${JSON.stringify(lag)}`);
    const got: number[] = [];
    await c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; });
    assert.is(got.length, lag.records, 'lag() said how many records the consumer still hands out');
    assert.equal(got, Array.from({ length: 90 }, (_, i) => 10 + i));
    assert.equal(c.lag(), { records: 0, bytes: 0, ms: 0 });
  } finally {
    await c.close();
  }
});

runOrSkip(test, 'jetstream lag after a purge below buffered records');
