/**
 * The JetStream producer reads each of a record's header values once: the value append checks (a
 * string, its size) is the value it sends. A header getter that answers otherwise when read again
 * used to get the later answer past the checks: a number threw a bare TypeError out of append (no
 * code), and a value past MAX_HEADER_VALUE_BYTES was published, the record stored with a header a
 * local log refuses. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream header values read once');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** Headers whose value `h` is `first` when read first, `then` on every later read. */
function flipping(first: string, then: unknown): Record<string, string> {
  let reads = 0;
  return Object.defineProperty({}, 'h', { enumerable: true, get: () => (reads++ === 0 ? first : then) as string }) as Record<string, string>;
}

test('a header getter answering a number, then a value too long, when read again: the value checked is the value sent', async () => {
  const backend = jetstream({ servers: server.url, stream: `hdr-once-${process.pid}` });
  const p = await Producer.open({ backend });
  try {
    let offset: number;
    try {
      offset = p.append('a', { headers: flipping('v-a', 12345) });
    } catch (e) {
      assert.unreachable(`append threw ${String((e as Error)?.stack ?? e)}`);
      return;
    }
    assert.is(offset, 0);
    assert.is(p.append('b', { headers: flipping('v-b', 'x'.repeat(70_000)) }), 1);
    await p.flush();
  } finally {
    await p.close();
  }
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const got: Array<[string, Readonly<Record<string, string>> | null]> = [];
    await c.nonblockingProcess(null, (m) => {
      got.push([Buffer.from(m.data).toString(), m.headers]);
      return 'commit';
    });
    assert.equal(got, [['a', { h: 'v-a' }], ['b', { h: 'v-b' }]]);
  } finally {
    await c.close();
  }
});

runOrSkip(test, 'jetstream header values read once');
