/**
 * The JetStream producer reads a record's dedupKey once: the key it checks (type, length) is the
 * key it looks up in the window, remembers and publishes as Nats-Msg-Id. A dedupKey getter that
 * answers otherwise when read again (a number, a key past 1,024 bytes) used to get the second answer
 * past the checks: the pump then threw a TypeError outside any call (a number), or published a key
 * append would have refused. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, textsOf, type NatsServer } from './nats-kit.js';

const test = suite('jetstream dedup key read once');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

function flipping(first: string, then: unknown): { readonly dedupKey: string } {
  let reads = 0;
  return { get dedupKey() { return (reads++ === 0 ? first : then) as string; } };
}

test('a dedupKey getter answering a number, then a key too long, when read again: the key checked is the key used', async () => {
  const backend = jetstream({ servers: server.url, stream: `dd-once-${process.pid}` });
  const p = await Producer.open({ backend, dedupWindow: { ms: 120_000 } });
  try {
    assert.is(p.append('a', flipping('k-a', 12345)), 0);
    assert.is(p.append('b', flipping('k-b', 'x'.repeat(5000))), 1);
    await p.flush();
    assert.is(p.append('a again', { dedupKey: 'k-a' }), 0, 'the key checked is the key remembered');
    assert.is(p.append('b again', { dedupKey: 'k-b' }), 1);
  } finally {
    await p.close();
  }
  assert.equal(await textsOf(backend), ['a', 'b']);
  const q = await Producer.open({ backend, dedupWindow: { ms: 120_000 } });
  try {
    assert.is(q.append('a, after a restart', { dedupKey: 'k-a' }), 0, 'the key published is the key checked');
    assert.is(q.append('b, after a restart', { dedupKey: 'k-b' }), 1);
  } finally {
    await q.close();
  }
});

runOrSkip(test, 'jetstream dedup key read once');
