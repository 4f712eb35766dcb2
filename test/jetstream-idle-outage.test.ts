/**
 * A JetStream consumer that no call is reading from while the server is away for longer than its
 * bound (2 x timeoutMs): between two calls, or while a handler runs. The outage is over when the
 * next call reads: the call goes on from the next record, not with an ERR_IO kept from the time no
 * call was reading (the consumer would fail every later call, though the server is back).
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { closeAfter, appendAll, killNats, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream outage while no call reads');
test.after(stopAllNats);
const TIMEOUT_MS = 1_000;

/**
 * Kills `server`, lets the outage outlast the consumers' bound, and starts it again on its store: 6 x
 * timeoutMs, the pull's stall (3 heartbeats of 500 ms, seen at the watchdog's next tick) and 2 x
 * timeoutMs after it, with room to spare.
 */
async function outage(server: NatsServer): Promise<NatsServer> {
  await killNats(server);
  const t0 = performance.now();
  await waitFor(() => performance.now() - t0 > 6 * TIMEOUT_MS, 'the outage to outlast the bound', 10 * TIMEOUT_MS);
  return startNats(15_000, server);
}

async function appendTo(backend: ReturnType<typeof jetstream>, from: number, n: number): Promise<void> {
  await closeAfter(await Producer.open({ backend, syncPolicy: SyncPolicy.never() }), (p) => appendAll(p, from, n));
}

test('between two calls: the next call hands out the records appended after the server came back', async () => {
  let server = await startNats();
  const backend = jetstream({ servers: server.url, stream: 'idle-between', timeoutMs: TIMEOUT_MS, leaseMs: 30_000 });
  await appendTo(backend, 0, 10);
  const tx = await Consumer.open({ backend, style: ConsumerStyle.clientTx('idle') });
  const non = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const got: number[] = [];
    const seen: number[] = [];
    await tx.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; });
    await non.nonblockingProcess(null, (m) => { seen.push(m.offset); return 'commit'; });
    server = await outage(server);
    await appendTo(backend, 10, 5);
    await within(tx.nonblockingProcess(null, (m) => { got.push(m.offset); return 'commit'; }), 10 * TIMEOUT_MS, 'the clientTx call');
    await within(non.blockingProcess(5, (m) => { seen.push(m.offset); return 'commit'; }), 10 * TIMEOUT_MS, 'the nonTx call');
    const all = Array.from({ length: 15 }, (_, i) => i);
    assert.equal(got, all, 'clientTx: every record once, in order');
    assert.equal(seen, all, 'nonTx: every record once, in order');
  } finally {
    await within(Promise.all([tx.close(), non.close()]), 10 * TIMEOUT_MS, 'close()');
  }
});

test('while a handler runs: the call goes on after it, from the next record', async () => {
  let server = await startNats();
  const backend = jetstream({ servers: server.url, stream: 'idle-handler', timeoutMs: TIMEOUT_MS, leaseMs: 30_000 });
  await appendTo(backend, 0, 10);
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('handler') });
  try {
    const got: number[] = [];
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let reached = false;
    const run = c.blockingProcess(15, async (m) => {
      got.push(m.offset);
      if (m.offset === 9) { reached = true; await released; }
      return 'commit' as const;
    });
    run.catch(() => undefined);
    await waitFor(() => reached, 'the handler to run record 9');
    server = await outage(server);
    release();
    await appendTo(backend, 10, 5);
    await within(run, 10 * TIMEOUT_MS, 'the call');
    assert.equal(got, Array.from({ length: 15 }, (_, i) => i), 'every record once, in order');
  } finally {
    await within(c.close(), 10 * TIMEOUT_MS, 'close()');
  }
});

runOrSkip(test, 'jetstream outage while no call reads');
