/**
 * Whence.timestamp(ms) with a fractional ms on JetStream starts where a local log does: at the first
 * record whose timestamp (whole ms) is at or after ms, so a record stored within the whole ms below
 * it is not handed out (a time read from performance.timeOrigin + performance.now() has a fraction).
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { closeAfter, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream timestamp fraction');
let server: NatsServer;

test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

async function read(backend: ReturnType<typeof jetstream>, whence: Whence): Promise<Array<{ offset: number; timestamp: number }>> {
  const c = await within(Consumer.open({ backend, style: ConsumerStyle.nonTx(whence) }), 10_000, 'open');
  const out: Array<{ offset: number; timestamp: number }> = [];
  await closeAfter(c, () => c.nonblockingProcess(null, (m) => { out.push({ offset: m.offset, timestamp: m.timestamp }); return 'commit'; }));
  return out;
}

test('a fractional ms: the first record at or after it, not the one in the whole ms below', async () => {
  const backend = jetstream({ servers: server.url, stream: `rltf-${process.pid}`, leaseMs: 5_000, timeoutMs: 1_000 });
  const p = await Producer.open({ backend });
  p.append('a');
  await p.flush();
  const [a] = await read(backend, Whence.oldest());
  await waitFor(() => Date.now() > a!.timestamp + 1, 'the clock past record a\'s ms');
  p.append('b');
  await p.close();
  const all = await read(backend, Whence.oldest());
  assert.ok(all[1]!.timestamp > a!.timestamp, 'b is stored in a later ms');
  const got = await read(backend, Whence.timestamp(a!.timestamp + 0.5));
  assert.is(got[0]?.offset, 1, `Whence.timestamp(${a!.timestamp + 0.5}) starts at b (a's timestamp is ${a!.timestamp})`);
  assert.is((await read(backend, Whence.timestamp(a!.timestamp)))[0]?.offset, 0, 'the whole ms: a');
});

runOrSkip(test, 'jetstream timestamp fraction');
