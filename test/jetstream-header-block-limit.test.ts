/**
 * nats-server stores no message whose header block passes 64 KiB (65,535 bytes), whatever its
 * max_payload: a record whose key (in base64) and headers, with the producer's own headers, make a
 * larger block is refused by the JetStream producer's append with ERR_RECORD_TOO_LARGE, nothing
 * queued, and the producer goes on. Such a record (a header value of 65,535 bytes, which a local log
 * takes; a key of 60,000 bytes) used to be queued with an offset, and the server's refusal then
 * failed the producer with ERR_IO: every later append and flush failed. Skipped with a printed reason
 * without nats-server.
 */
import * as assert from 'uvu/assert';
import { ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir, throwsWith, messagesOf } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream header block limit');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

const TOO_LARGE: Array<[string, { key?: Uint8Array; headers?: Record<string, string> }]> = [
  ['a header value of 65,535 bytes', { headers: { big: 'v'.repeat(65_535) } }],
  ['a key of 60,000 bytes (80,000 in base64)', { key: new Uint8Array(60_000).fill(7) }],
  ['headers of 40,000 bytes and a key of 30,000 bytes', { key: new Uint8Array(30_000).fill(1), headers: { a: 'a'.repeat(20_000), b: 'b'.repeat(20_000) } }],
];

test('a header block past 64 KiB: ERR_RECORD_TOO_LARGE at append, nothing queued, the producer goes on', async () => {
  // A local log takes each of them.
  const logDir = tempDir();
  const lp = await Producer.open({ logDir });
  for (const [, opts] of TOO_LARGE) lp.append('x', opts);
  await lp.close();

  const backend = jetstream({ servers: server.url, stream: `hdr-block-${process.pid}` });
  const p = await Producer.open({ backend });
  try {
    assert.is(p.append('before'), 0);
    for (const [what, opts] of TOO_LARGE) {
      const err = throwsWith(() => p.append('x', opts), 'ERR_RECORD_TOO_LARGE');
      assert.match(err.message, /header/, what);
      assert.is(p.nextOffset, 1, `${what}: nothing queued`);
    }
    // Just below the bound: stored, and read back whole.
    assert.is(p.append('near', { headers: { near: 'n'.repeat(60_000) } }), 1);
    assert.is(p.append('after'), 2);
    await within(p.flush(), 10_000, 'flush');
    assert.is(p.error, null);
  } finally {
    await p.close().catch(() => undefined);
  }
  const got = await messagesOf({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  assert.equal(got.map((m) => Buffer.from(m.data).toString()), ['before', 'near', 'after']);
  assert.is(got[1]!.headers?.near?.length, 60_000);
});

runOrSkip(test, 'jetstream header block limit');
