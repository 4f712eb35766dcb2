/**
 * On JetStream, a record's headers and dedup key cannot switch off what the server reads from a
 * publish's headers: with a header name or value, or a dedup key, holding the text of
 * Nats-Expected-Last-Sequence, a publish behind another writer's record is still refused (the producer
 * stops with ERR_LOG_LOCKED, nothing of its stored); with such text for Nats-Msg-Id, the stream still
 * takes the dedup key for a duplicate. The headers read back as they were appended.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstream as jsClient } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, Whence, type Message } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { closeAfter, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream fence headers');
let server: NatsServer;
let n = 0;

test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const backendOf = (stream: string): ReturnType<typeof jetstream> => jetstream({ servers: server.url, stream, leaseMs: 5_000, timeoutMs: 1_000 });

async function readAll(stream: string): Promise<Message[]> {
  const c = await Consumer.open({ backend: backendOf(stream), style: ConsumerStyle.nonTx(Whence.oldest()) });
  const out: Message[] = [];
  await closeAfter(c, () => c.nonblockingProcess(null, (m) => { out.push(m); return 'commit'; }));
  return out;
}

/** Another writer's record lands on the stream before the producer's append is published. */
async function behindForeign(headers: Record<string, string>, dedupKey?: string): Promise<{ code: string | undefined; stored: string[] }> {
  const stream = `rlfence-${process.pid}-${++n}`;
  const p = await Producer.open(dedupKey === undefined ? { backend: backendOf(stream) } : { backend: backendOf(stream), dedupWindow: { ms: 180_000 } });
  const nc = await connect({ servers: server.url });
  try {
    await nc.request(`rl.${stream}`, new TextEncoder().encode('foreign'), { timeout: 2000 });
  } finally { await nc.close(); }
  p.append('mine', dedupKey === undefined ? { headers } : { headers, dedupKey });
  let code: string | undefined;
  try { await within(p.flush(), 10_000, 'flush'); } catch (e) { code = (e as { code?: string }).code; }
  await p.destroy();
  return { code, stored: (await readAll(stream)).map((m) => Buffer.from(m.data).toString()) };
}

for (const [label, headers, dedupKey] of [
  ['a plain header', { 'X-Other': 'v' }, undefined],
  ['a header named X-Nats-Expected-Last-Sequence', { 'X-Nats-Expected-Last-Sequence': 'v' }, undefined],
  ['a header value holding Nats-Expected-Last-Sequence', { 'X-Note': 'see Nats-Expected-Last-Sequence' }, undefined],
  ['a dedup key holding Nats-Expected-Last-Sequence', { 'X-Other': 'v' }, 'order Nats-Expected-Last-Sequence'],
  ['a header named X-Nats-Expected-Stream', { 'X-Nats-Expected-Stream': 'v', 'X-Nats-Msg-Id': 'w' }, 'k'],
] as const) {
  test(`${label}: the fence refuses the publish behind another writer's record`, async () => {
    const r = await behindForeign(headers, dedupKey);
    assert.equal(r.stored, ['foreign'], 'nothing stored behind another writer\'s record');
    assert.is(r.code, 'ERR_LOG_LOCKED');
  });
}

test('a header holding Nats-Msg-Id: the stream still takes the dedup key for a duplicate; the headers read back as appended', async () => {
  const stream = `rlfence-${process.pid}-${++n}`;
  const headers = { 'X-Nats-Msg-Id': 'see Nats-Msg-Id', 'X-Note': 'Nats-Expected-Last-Sequence: 5' };
  const p = await Producer.open({ backend: backendOf(stream), dedupWindow: { ms: 180_000 } });
  try {
    p.append('mine', { headers, dedupKey: 'k1' });
    await p.flush();
  } finally { await p.close(); }
  const nc = await connect({ servers: server.url });
  try {
    const ack = await jsClient(nc).publish(`rl.${stream}`, 'again', { msgID: 'k1' });
    assert.is(ack.duplicate, true, 'the stream remembers the dedup key');
    assert.is(ack.seq, 1);
  } finally { await nc.close(); }
  const got = await readAll(stream);
  assert.equal(got.map((m) => [Buffer.from(m.data).toString(), m.headers]), [['mine', headers]]);
});

runOrSkip(test, 'jetstream fence headers');
