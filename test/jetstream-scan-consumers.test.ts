/**
 * The one-off scans of a JetStream stream leave no consumer on the server: opening a consumer at
 * Whence.timestamp (the scan for the first record at or after a time), and opening a producer with a
 * dedup window over stored records (the scan that rebuilds the window from the newest records), each
 * with the scan's ordered consumer deleted once the scan ends.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream scan consumers');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** The names of the stream's consumers on the server. */
async function consumerNames(stream: string): Promise<string[]> {
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    const out: string[] = [];
    for await (const ci of jsm.consumers.list(stream)) out.push(ci.name);
    return out;
  } finally {
    await nc.close();
  }
}

test('a consumer opened at Whence.timestamp leaves no server consumer once closed', async () => {
  const stream = `scan-ts-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  p.append('a');
  await p.flush();
  const t = Date.now() + 2;
  await waitFor(() => Date.now() > t + 2, 'the clock passes t');
  p.append('b');
  p.append('c');
  await p.close();
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.timestamp(t)) });
  const got: number[] = [];
  await c.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; });
  await c.close();
  assert.equal(got, [1, 2]);
  assert.equal(await consumerNames(stream), []);
});

for (const window of [{ records: 10 }, { ms: 120_000 }]) {
  test(`a producer opened with dedupWindow ${JSON.stringify(window)} over stored records leaves no server consumer`, async () => {
    const stream = `scan-dd-${Object.keys(window)[0]}-${process.pid}`;
    const backend = jetstream({ servers: server.url, stream });
    const p = await Producer.open({ backend, dedupWindow: window });
    for (let i = 0; i < 5; i++) p.append(`r${i}`, { dedupKey: `k${i}` });
    await p.close();
    const q = await Producer.open({ backend, dedupWindow: window });
    assert.is(q.append('again', { dedupKey: 'k3' }), 3, 'the window was rebuilt from the stored records');
    await q.close();
    assert.equal(await consumerNames(stream), []);
  });
}

runOrSkip(test, 'jetstream scan consumers');
