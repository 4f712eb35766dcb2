/**
 * A nonblocking call with a handler function on JetStream hands out the records the stream held when
 * the call started: records appended while it runs are left for the next call, so a producer that
 * keeps up cannot keep a "nonblocking" call going (as on a local log, test/nonblocking-end.test.ts).
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream nonblocking end');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

for (const style of ['nonTx', 'clientTx'] as const) {
  test(`${style}: records appended during a nonblockingProcess call wait for the next call`, async () => {
    const backend = jetstream({ servers: server.url, stream: `nbe-${style}-${process.pid}`, timeoutMs: 2_000 });
    const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
    const c = await Consumer.open({ backend, style: style === 'nonTx' ? ConsumerStyle.nonTx(Whence.oldest()) : ConsumerStyle.clientTx('c') });
    try {
      for (let i = 0; i < 3; i++) p.append(`rec-${i}`);
      await p.flush();
      const first: string[] = [];
      const s1 = await c.nonblockingProcess(null, async (m) => {
        first.push(Buffer.from(m.data).toString());
        if (first.length === 1) {
          for (let i = 0; i < 5; i++) p.append(`late-${i}`);
          await p.flush(); // in the stream before the call could read on
        }
        return 'commit' as const;
      });
      assert.equal(first, ['rec-0', 'rec-1', 'rec-2']);
      assert.is(s1.stoppedBy, 'end');
      const second: string[] = [];
      const s2 = await c.nonblockingProcess(null, (m) => { second.push(Buffer.from(m.data).toString()); return 'commit'; });
      assert.equal(second, ['late-0', 'late-1', 'late-2', 'late-3', 'late-4']);
      assert.is(s2.committed, 5);
    } finally {
      await c.close();
      await p.close();
    }
  });
}

runOrSkip(test, 'jetstream nonblocking end');
