/**
 * A dedup key the stream still remembers (its duplicate_window) while the producer's window no longer
 * does: the record is published again without the key, at the offset append gave it, as locally a key
 * that left the window makes a new record. Two ways there: the stream's limits removed the key's
 * record before the producer opened (its window is rebuilt from the records still stored), and a
 * record stored late (its first publish lost) whose key the producer's `{ ms }` window, counted from
 * the append, forgot first. Both stopped the producer with ERR_INTERNAL.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { closeAfter, runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream dedup window');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

async function texts(backend: ReturnType<typeof jetstream>): Promise<string[]> {
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const out: string[] = [];
  await closeAfter(c, () => c.nonblockingProcess(null, (m) => { out.push(Buffer.from(m.data).toString()); return 'commit'; }));
  return out;
}

test('a key whose record the stream\'s limits removed before the producer opened: appended again, at its offset', async () => {
  const stream = `dd-retained-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream });
  const p = await Producer.open({ backend, dedupWindow: { ms: 120_000 }, maxTotalBytes: 4096 });
  assert.is(p.append('order', { dedupKey: 'order-17' }), 0);
  for (let i = 0; i < 20; i++) p.append(`filler ${i} ${'f'.repeat(500)}`);
  await p.close();
  const q = await Producer.open({ backend, dedupWindow: { ms: 120_000 }, maxTotalBytes: 4096 });
  assert.is(q.append('order again', { dedupKey: 'order-17' }), 21);
  q.append('after');
  await q.flush();
  assert.is(q.append('once more', { dedupKey: 'order-17' }), 21, 'the key is in the window again');
  await q.close();
  const left = await texts(backend);
  assert.equal(left.slice(-2), ['order again', 'after']);
});

test('a record stored late, whose key the producer\'s { ms } window forgot first: appended again, at its offset', async () => {
  const stream = `dd-late-${process.pid}`;
  const nc = await connect({ servers: server.url });
  const proxy = await proxyTo(server.port);
  try {
    await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`rl.${stream}`], storage: StorageType.File, duplicate_window: 2_000_000_000 });
    const backend = jetstream({ servers: proxy.url, stream, timeoutMs: 1_000 });
    const p = await Producer.open({ backend, dedupWindow: { ms: 2_000 } });
    proxy.drop(`rl.${stream}`, 1); // the first publish is lost: stored after the resync, about 1 s late
    const appendedAt = Date.now();
    assert.is(p.append('first', { dedupKey: 'k' }), 0);
    await p.flush();
    // The producer's window (2 s from the append) forgets k before the stream's (2 s from the store).
    await waitFor(() => Date.now() > appendedAt + 2_300, 'the producer\'s window to pass k');
    assert.is(p.append('again', { dedupKey: 'k' }), 1);
    await p.flush();
    await p.close();
    assert.equal(await texts(backend), ['first', 'again']);
  } finally {
    await proxy.close();
    await nc.close();
  }
});

runOrSkip(test, 'jetstream dedup window');
