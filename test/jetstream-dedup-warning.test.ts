/**
 * The warning a `{ records }` dedup window gets on JetStream (RL_JETSTREAM_DEDUP) says what happens to
 * a key the producer's window forgot while the stream still remembers it: a new record, published
 * again without the key (docs/jetstream.md), not a stopped producer. It said "stops the producer
 * (ERR_INTERNAL)", which the producer no longer does. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, textsOf, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream dedup warning');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

test('a { records } window: the warning says a key it forgot makes a new record, and it does', async () => {
  const stream = `dedup-warning-${process.pid}`;
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => { if ((w as { code?: string }).code === 'RL_JETSTREAM_DEDUP') warnings.push(w); };
  process.on('warning', onWarning);
  try {
    const p = await Producer.open({ backend: jetstream({ servers: server.url, stream, timeoutMs: 5_000 }), dedupWindow: { records: 1 } });
    try {
      assert.is(p.append('a', { dedupKey: 'k1' }), 0);
      assert.is(p.append('b', { dedupKey: 'k2' }), 1); // k1 leaves the producer's window; the stream still remembers it
      assert.is(p.append('c', { dedupKey: 'k1' }), 2);
      await within(p.flush(), 10_000, 'flush of a key the window forgot');
      assert.is(p.error, null, 'the producer goes on');
    } finally {
      await p.destroy();
    }
    await waitFor(() => warnings.length > 0, 'the RL_JETSTREAM_DEDUP warning', 5_000);
  } finally {
    process.off('warning', onWarning);
  }
  assert.equal(await textsOf(jetstream({ servers: server.url, stream })), ['a', 'b', 'c']);
  const said = warnings[0]!.message;
  assert.not.match(said, /ERR_INTERNAL|stops the producer/, `the warning describes what happens: ${said}`);
  assert.match(said, /new record/, `the warning says a forgotten key makes a new record: ${said}`);
});

runOrSkip(test, 'jetstream dedup warning');
