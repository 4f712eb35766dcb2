/**
 * Consumer ids on JetStream, where a clientTx id is part of a key-value key and of NATS subjects
 * split at its dots: an id ending in '.' or holding '..' is refused by Consumer.open with
 * ERR_INVALID_CONSUMER_ID naming the backend, at once (no request, no retries); an id with single
 * inner dots opens, commits and reopens at its committed offset. Skipped with a printed reason
 * without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream consumer ids');
let server: NatsServer;
let backend: ReturnType<typeof jetstream>;
test.before(async () => {
  server = await startNats();
  backend = jetstream({ servers: server.url, stream: `rcid-${process.pid}`, leaseMs: 5_000, timeoutMs: 2_000 });
  const p = await Producer.open({ backend });
  p.append('x');
  p.append('y');
  await within(p.flush(), 10_000, 'flush');
  await p.close();
});
test.after(stopAllNats);

for (const id of ['a.', 'a..b', 'a...']) {
  test(`clientTx(${JSON.stringify(id)}) is refused with ERR_INVALID_CONSUMER_ID at once`, async () => {
    const t0 = Date.now();
    const e = await rejectsWith(within(Consumer.open({ backend, style: ConsumerStyle.clientTx(id) }), 10_000, 'Consumer.open'), 'ERR_INVALID_CONSUMER_ID');
    assert.match(e.message, /JetStream/);
    assert.ok(Date.now() - t0 < 2_000, `refused in ${Date.now() - t0} ms, before timeoutMs`);
  });
}

test('clientTx("a.b.c") opens, commits and reopens where it committed', async () => {
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('a.b.c') });
  const seen: number[] = [];
  await c.nonblockingProcess(1, (m) => { seen.push(m.offset); return 'commit'; });
  await c.close();
  const again = await Consumer.open({ backend, style: ConsumerStyle.clientTx('a.b.c') });
  await again.nonblockingProcess(null, (m) => { seen.push(m.offset); return 'commit'; });
  await again.close();
  assert.equal(seen, [0, 1]);
});

runOrSkip(test, 'jetstream consumer ids');
