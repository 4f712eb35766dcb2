/**
 * The JetStream producer's size limit counts what the server counts: a NATS message is its payload
 * and its headers (the record's key and headers, the producer's own fence and expectation headers,
 * the dedup key), and the server refuses one past its max_payload. A record that fits
 * maxRecordBytes but not max_payload with its headers is refused by append (ERR_RECORD_TOO_LARGE,
 * nothing queued), and the producer goes on. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, throwsWith } from './kit.js';
import { startNats, stopAllNats, type NatsServer, runOrSkip } from './nats-kit.js';

const test = suite('jetstream limits');
let server: NatsServer;
let n = 0;
const fresh = () => jetstream({ servers: server.url, stream: `jlim-${process.pid}-${++n}`, leaseMs: 5_000 });
/** nats-server's default max_payload. */
const MAX_PAYLOAD = 1024 * 1024;

test.before(async () => {
  server = await startNats();
});
test.after(stopAllNats);

test('a record that fits max_payload alone but not with its NATS headers is refused by append; the producer goes on', async () => {
  const backend = fresh();
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  try {
    throwsWith(() => p.append(Buffer.alloc(MAX_PAYLOAD - 8, 1)), 'ERR_RECORD_TOO_LARGE');
    throwsWith(() => p.append(Buffer.alloc(MAX_PAYLOAD - 400, 2), { headers: { big: 'h'.repeat(500) } }), 'ERR_RECORD_TOO_LARGE');
    throwsWith(() => p.append(Buffer.alloc(MAX_PAYLOAD - 300, 3), { key: 'k'.repeat(300) }), 'ERR_RECORD_TOO_LARGE');
    const big = MAX_PAYLOAD - 512; // room for the producer's own headers
    assert.is(p.append(Buffer.alloc(big, 4)), 0);
    assert.is(p.append('after'), 1);
    await p.flush();
    assert.is(p.error, null);
  } finally {
    await p.close();
  }
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const got: number[] = [];
  await c.nonblockingProcess(null, (m) => { got.push(m.data.byteLength); return 'commit'; });
  await c.close();
  assert.equal(got, [MAX_PAYLOAD - 512, 5]);
});

runOrSkip(test, 'jetstream limits');
