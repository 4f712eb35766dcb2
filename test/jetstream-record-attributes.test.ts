/**
 * Record attributes that NATS headers cannot carry as they are, on JetStream: header values with
 * leading or trailing whitespace (spaces, tab, NBSP, U+2028) or a line break come back to a consumer
 * as appended, as on a local log; a dedup key with surrounding spaces, a line break, or the start of
 * the encoded form (`rl-b64:`) is stored, and the same key appended after a producer restart returns
 * the earlier offset (the window rebuilt from the stream knows it), while keys differing only by
 * their spaces stay distinct. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir, messagesOf } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream record attributes');
let server: NatsServer;
let n = 0;
const fresh = () => jetstream({ servers: server.url, stream: `rattr-${process.pid}-${++n}`, leaseMs: 5_000, timeoutMs: 2_000 });

test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const HEADERS: Record<string, string> = {
  padded: '  two spaces  ', tab: '\tx\t', nbsp: '\u00a0y\u00a0', ls: 'z\u2028', crlf: 'a\r\nb', lf: '\n',
  empty: '', plain: 'plain value', b64like: 'aGk=',
};

test('header values nats.js would trim or refuse come back as appended, as on a local log', async () => {
  const logDir = tempDir();
  const lp = await Producer.open({ logDir });
  lp.append('a', { key: 'k', headers: HEADERS });
  lp.append('b', { headers: { only: ' x' } });
  await lp.close();
  const local = await messagesOf({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const backend = fresh();
  const p = await Producer.open({ backend });
  p.append('a', { key: 'k', headers: HEADERS });
  p.append('b', { headers: { only: ' x' } });
  await within(p.flush(), 10_000, 'flush');
  await p.close();
  const js = await messagesOf({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  assert.equal(local.map((m) => m.headers), [HEADERS, { only: ' x' }], 'the local log keeps them');
  assert.equal(js.map((m) => m.headers), [HEADERS, { only: ' x' }], 'JetStream keeps them');
  assert.equal(js.map((m) => (m.key === null ? null : Buffer.from(m.key).toString())), ['k', null], 'the key is kept');
});

const KEYS = [' order-17 ', 'a\r\nb', '\tx', 'rl-b64:abc', 'order-17'];

test('dedup keys nats.js would change dedup across a producer restart, each distinct', async () => {
  const backend = fresh();
  const window = { ms: 180_000 };
  const p1 = await Producer.open({ backend, dedupWindow: window });
  const first = KEYS.map((k) => p1.append(`v:${k}`, { dedupKey: k }));
  await within(p1.flush(), 10_000, 'first flush');
  await p1.close();
  assert.equal(first, [0, 1, 2, 3, 4], 'each key is a record of its own');
  const p2 = await Producer.open({ backend, dedupWindow: window });
  const again = KEYS.map((k) => p2.append(`again:${k}`, { dedupKey: k }));
  await within(p2.flush(), 10_000, 'second flush');
  await p2.close();
  assert.equal(again, first, 'after the restart each key returns its earlier offset');
  const stored = await messagesOf({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  assert.equal(stored.map((m) => m.data.toString()), KEYS.map((k) => `v:${k}`), 'no record was appended twice');
});

runOrSkip(test, 'jetstream record attributes');
