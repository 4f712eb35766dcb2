/**
 * A JetStream consumer's waits at the end of the stream (src/jetstream/reader.ts): each blocking wait
 * ends after at most a second, or on its signal, and the next one starts. A wait that ended so must
 * leave nothing behind for the next record's wake-up: every wait once chained the one before it, so a
 * consumer idle at the end (one wait a second, for hours) or polling with aborted blocking calls
 * built a chain of wake-ups that the next record ran as one deep recursion. Past the stack's depth
 * that record's delivery threw inside the pull's callback, and the consumer failed with ERR_IO
 * ("Maximum call stack size exceeded"). The test ends blocking calls by their signal many times (as
 * hours idle would), then appends: the next blocking call hands the record out.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream waits at the end');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** Blocking calls ended by their signal: as many waits as a consumer idle for about this many seconds makes. */
const WAITS = 100_000;

/** Ends `WAITS` blocking calls of `c` by their signal, each once it waits at the end. */
async function waitsEnded(c: Consumer): Promise<void> {
  for (let i = 0; i < WAITS; i++) {
    const ac = new AbortController();
    const call = c.blockingProcess(null, () => 'commit', { signal: ac.signal });
    await new Promise((r) => setImmediate(r)); // the call waits at the end
    ac.abort();
    assert.is((await call).stoppedBy, 'abort');
  }
}

test(`clientTx: ${WAITS} blocking waits ended by their signal, then records appended one by one: each blocking call hands its record out`, async () => {
  const backend = jetstream({ servers: server.url, stream: `wc-tx-${process.pid}`, timeoutMs: 2_000, leaseMs: 3_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('w') });
  try {
    await waitsEnded(c);
    for (const text of ['first after the waits', 'second']) {
      p.append(text);
      await p.flush();
      const got: string[] = [];
      const s = await within(c.blockingProcess(1, (m) => { got.push(Buffer.from(m.data).toString()); return 'commit'; }), 20_000, 'the blocking call');
      assert.equal(s, { committed: 1, skipped: 0, retried: 0, stoppedBy: 'limit' });
      assert.equal(got, [text]);
    }
    assert.is(c.committedOffset, 2);
  } finally {
    await c.close();
    await p.close();
  }
});

test(`nonTx: ${WAITS} blocking waits ended by their signal, then close() resolves`, async () => {
  const backend = jetstream({ servers: server.url, stream: `wc-non-${process.pid}`, timeoutMs: 2_000 });
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  let closed = false;
  try {
    await waitsEnded(c);
    await within(c.close(), 10_000, 'close()');
    closed = true;
  } finally {
    if (!closed) await c.destroy().catch(() => undefined);
  }
});

runOrSkip(test, 'jetstream waits at the end');
