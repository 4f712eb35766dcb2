/**
 * `append` on JetStream keeps a copy of the record's bytes: the caller may reuse its buffer once
 * append returns, as on a local log. The queue took `data.slice()`, which for a Node Buffer is a view
 * of the same memory (Buffer#slice does not copy): a Buffer filled again right after append, before
 * the background publish, had the new bytes stored under the earlier record's offset. A plain
 * Uint8Array was copied. Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, textsOf, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream append buffer copy');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

test('a Buffer reused right after append: each record is stored as it was appended', async () => {
  const stream = `buffer-copy-${process.pid}`;
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream, timeoutMs: 5_000 }) });
  const expected: string[] = [];
  try {
    const buf = Buffer.alloc(8);
    const u8 = new Uint8Array(8);
    for (let i = 0; i < 6; i++) {
      const text = `record-${i}`.padEnd(8, '.').slice(0, 8);
      expected.push(text);
      if (i % 2 === 0) {
        buf.write(text, 'latin1');
        assert.is(p.append(buf), i);
        buf.fill(0x78); // reused at once, before the background publish
      } else {
        u8.set(Buffer.from(text, 'latin1'));
        assert.is(p.append(u8), i);
        u8.fill(0x78);
      }
    }
    await within(p.flush(), 10_000, 'flush');
  } finally {
    await p.close();
  }
  assert.equal(await textsOf(jetstream({ servers: server.url, stream })), expected);
});

runOrSkip(test, 'jetstream append buffer copy');
