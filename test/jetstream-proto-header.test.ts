/**
 * A header named `__proto__` is a header on JetStream as on a local log (an object from JSON.parse
 * or a computed key holds one as an own property). The JetStream producer's copy of the headers and
 * the consumer's decoding of them used to assign it, which sets no property: the header was dropped
 * at append without a word, and a stored one read back as `{}`; an option of that name was
 * taken without a word where a local log refuses it. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir, throwsWith, messagesOf } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream __proto__ header');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** What each consumer sees of the headers: own names and values, and the prototype kept out of it. */
function shape(h: Readonly<Record<string, string>> | null): unknown {
  if (h === null) return null;
  return { own: Object.getOwnPropertyNames(h).map((n) => [n, Object.getOwnPropertyDescriptor(h, n)?.value as unknown]), plain: Object.getPrototypeOf(h) === Object.prototype };
}

test('a header named __proto__ comes back as appended, as on a local log', async () => {
  const records: Array<Record<string, string>> = [
    JSON.parse('{"__proto__":"p","a":"1"}') as Record<string, string>,
    JSON.parse('{"__proto__":"only"}') as Record<string, string>,
    Object.assign(Object.create(null) as Record<string, string>, JSON.parse('{"__proto__":"np"}') as Record<string, string>),
  ];
  const logDir = tempDir();
  const lp = await Producer.open({ logDir });
  for (const headers of records) lp.append('x', { headers });
  await lp.close();
  const local = await messagesOf({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });

  const backend = jetstream({ servers: server.url, stream: `proto-hdr-${process.pid}` });
  const p = await Producer.open({ backend });
  for (const headers of records) p.append('x', { headers });
  await within(p.flush(), 10_000, 'flush');
  await p.close();
  const js = await messagesOf({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });

  const want = [
    { own: [['__proto__', 'p'], ['a', '1']], plain: true },
    { own: [['__proto__', 'only']], plain: true },
    { own: [['__proto__', 'np']], plain: true },
  ];
  assert.equal(local.map((m) => shape(m.headers)), want, 'the local log keeps it');
  assert.equal(js.map((m) => shape(m.headers)), want, 'JetStream keeps it');
});

test('an option named __proto__ is refused by name, as on a local log', async () => {
  const bad = JSON.parse('{"__proto__":1}') as object;
  const logDir = tempDir();
  const lp = await Producer.open({ logDir });
  try {
    assert.match(throwsWith(() => lp.append('x', bad), 'ERR_INVALID_RECORD').message, /"__proto__" is not a record field/);
  } finally { await lp.close(); }
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream: `proto-opt-${process.pid}` }) });
  try {
    assert.match(throwsWith(() => p.append('x', bad), 'ERR_INVALID_RECORD').message, /"__proto__" is not a record field/);
    assert.is(p.nextOffset, 0, 'nothing appended');
  } finally { await p.close(); }
});

runOrSkip(test, 'jetstream __proto__ header');
