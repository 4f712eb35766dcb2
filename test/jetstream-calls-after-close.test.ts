/**
 * The JetStream producer refuses the calls a closed producer refuses locally: after `close()` or
 * `destroy()`, `writable()` and `flush()` reject with ERR_LOG_CLOSED, as a local producer's do. The
 * JetStream producer's `writable()` used to resolve (its queue had room), and its `flush()` after
 * `close()` too, so a loop waiting for room before each append saw no sign that the producer was gone
 * until the append threw. `close()` and `destroy()` called again still resolve.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir } from './kit.js';
import { outcome, runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream producer calls after close');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);


interface Ended { writable(): Promise<void>; flush(): Promise<void>; close(): Promise<void>; destroy(): Promise<void> }

async function afterEnd(p: Ended): Promise<string[]> {
  return [await outcome(() => p.writable()), await outcome(() => p.flush()), await outcome(() => p.close()), await outcome(() => p.destroy())];
}

for (const end of ['close', 'destroy'] as const) {
  test(`after ${end}(): writable() and flush() reject with ERR_LOG_CLOSED, as locally`, async () => {
    const local = await Producer.open({ logDir: tempDir() });
    const js = await Producer.open({ backend: jetstream({ servers: server.url, stream: `after-${end}-${process.pid}`, timeoutMs: 2_000 }) });
    for (const p of [local, js]) {
      p.append('r0');
      await p.flush();
      await p[end]();
    }
    const expected = ['ERR_LOG_CLOSED', 'ERR_LOG_CLOSED', 'resolved', 'resolved'];
    assert.equal(await afterEnd(local), expected, 'local');
    assert.equal(await afterEnd(js), expected, 'JetStream');
  });
}

runOrSkip(test, 'jetstream producer calls after close');
