/**
 * What a JetStream consumer leaves behind when it stops:
 * - close() while its pull creates its ordered consumer (`consumers.get()`, held back here by a hook
 *   on the client's prototype until close() was called): the consumer the get made is deleted on the
 *   server, as is the consumer of a pull that close() ends after records arrived (the server would
 *   keep either for its inactivity threshold, 5 minutes).
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstream as natsJetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { startNats, stopAllNats, runOrSkip } from './nats-kit.js';

const test = suite('jetstream: what a stopped consumer leaves');
test.after(stopAllNats);

async function consumerCount(jsm: JetStreamManager, stream: string): Promise<number> {
  return (await jsm.consumers.list(stream).next()).length;
}

test('close() during the pull\'s consumers.get(): the consumer it creates is deleted; so is a pull\'s consumer at close()', async () => {
  const own = await startNats();
  const backend = jetstream({ servers: own.url, stream: 'pullstop', leaseMs: 30_000, timeoutMs: 2_000 });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 10; i++) p.append(`r${i}`);
  await p.flush();
  await p.close();
  const nc = await connect({ servers: own.url });
  const jsm = await jetstreamManager(nc);
  const proto = Object.getPrototypeOf(natsJetstream(nc).consumers) as { get: (...args: unknown[]) => Promise<unknown> };
  const original = proto.get;
  let created!: () => void;
  const madeOne = new Promise<void>((resolve) => { created = resolve; });
  let release!: () => void;
  const released = new Promise<void>((resolve) => { release = resolve; });
  proto.get = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const made = await original.apply(this, args); // the consumer exists on the server now
    created();
    await released;
    return made;
  };
  try {
    const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
    const call = c.nonblockingProcess(null, () => 'commit');
    await madeOne;
    assert.is(await consumerCount(jsm, 'pullstop'), 1, 'the pull created its ordered consumer');
    const closing = c.close();
    // The call ends once close() stopped the pull (its get still held): only then does the get return.
    assert.equal(await call, { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' });
    release();
    await closing;
    await waitFor(async () => await consumerCount(jsm, 'pullstop') === 0, 'the consumer made during close() deleted', 5_000);
  } finally {
    proto.get = original;
    release();
  }
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    assert.is((await c.nonblockingProcess(null, () => 'commit')).committed, 10);
    assert.is(await consumerCount(jsm, 'pullstop'), 1, 'the pull\'s consumer is there while the consumer is open');
  } finally {
    await c.close();
  }
  await waitFor(async () => await consumerCount(jsm, 'pullstop') === 0, 'the pull\'s consumer deleted at close()', 5_000);
  await nc.close();
  await own.stop();
});

runOrSkip(test, 'jetstream: what a stopped consumer leaves');
