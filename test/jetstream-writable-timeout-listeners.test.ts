/**
 * A JetStream producer's `writable({ signal })` that ends with ERR_LOG_FULL at appendTimeoutMs leaves
 * nothing behind: no 'abort' listener on the caller's signal and no waker in the producer. Each such
 * wait used to keep both until the next acknowledgement, so a loop retrying writable() with one
 * long-lived signal while the server stood still piled listeners up on it (Node's
 * MaxListenersExceededWarning past 10). Skipped with a printed reason without nats-server.
 */
import { getEventListeners } from 'node:events';
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { pauseNats, runOrSkip, startNats, within } from './nats-kit.js';

const test = suite('jetstream writable timeout listeners');

test('writable() timing out 20 times with one signal while the server is stopped: no listener left on the signal', async () => {
  const server = await startNats();
  let stopped = false;
  try {
    const backend = jetstream({ servers: server.url, stream: `wr-listeners-${process.pid}`, timeoutMs: 10_000, maxQueueBytes: 64 * 1024 });
    const p = await Producer.open({ backend, appendTimeoutMs: 20 });
    try {
      p.append('first');
      await p.flush();
      stopped = true;
      await pauseNats(server);
      p.append(new Uint8Array(60 * 1024)); // the queue is full until the server answers
      const ac = new AbortController();
      for (let i = 0; i < 20; i++) {
        const code = await within(p.writable({ bytes: 60 * 1024, signal: ac.signal }).then(() => 'resolved', (e: { code?: string }) => e.code), 5_000, 'writable()');
        assert.is(code, 'ERR_LOG_FULL');
      }
      assert.is(getEventListeners(ac.signal, 'abort').length, 0, 'no abort listener left on the signal');
    } finally {
      if (stopped) server.proc.kill('SIGCONT');
      stopped = false;
      await p.destroy();
    }
  } finally {
    if (stopped) server.proc.kill('SIGCONT');
    await server.stop();
  }
});

runOrSkip(test, 'jetstream writable timeout listeners');
