/**
 * What a JetStream consumer leaves behind when it stops:
 * - close() while its pull creates its ordered consumer (`consumers.get()`, held back here by a hook
 *   on the client's prototype until close() was called): the consumer the get made is deleted on the
 *   server, as is the consumer of a pull that close() ends after records arrived (the server would
 *   keep either for its inactivity threshold, 5 minutes).
 * - a consumer that holds its first record while the stream has more than the pull buffers: the pull
 *   pauses (its consumer is stopped and deleted on the server), and when the handler goes on, a new
 *   consumer delivers the rest from the next offset: every record once, in order.
 * - nats.js making a stopped consumer again: a reset of the ordered consumer under way when the pull
 *   pauses (forced here: a reset started as the pull stops it) makes a new consumer under a new name;
 *   the pull deletes it, and hands out no record of it.
 * - close() while nats.js checks the pull's consumer (its resetPending(), as after missed heartbeats),
 *   the check's "consumer info" answered "consumer not found" after close() deleted the consumer and
 *   before the connection closes (held back here by hooks): nats.js makes no consumer again, and none
 *   is left on the server.
 * - close() while the server is stopped (SIGSTOP) past close()'s 1 s wait for its delete: the delete
 *   went out, and the server deletes the consumer once it goes on.
 * - a consumers.get() of the pull that fails (forced here: a timeout thrown after the server made the
 *   consumer): the pull goes on with a new consumer, and the one the failed get made is deleted.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstream as natsJetstream, jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, Whence, type Message } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { closeAfter, appendAll, consumerCount, pauseNats, startNats, stopAllNats, runOrSkip, within } from './nats-kit.js';

const test = suite('jetstream: what a stopped consumer leaves');
test.after(stopAllNats);

/** A backend on `url`'s stream `stream` holding records 0-9, appended and flushed by a producer already closed. */
async function tenRecords(url: string, stream: string): Promise<ReturnType<typeof jetstream>> {
  const backend = jetstream({ servers: url, stream, leaseMs: 30_000, timeoutMs: 2_000 });
  await closeAfter(await Producer.open({ backend }), (p) => appendAll(p, 0, 10));
  return backend;
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

test('a pull whose buffer fills pauses, deleting its consumer, and goes on from the next offset', async () => {
  const own = await startNats();
  const backend = jetstream({ servers: own.url, stream: 'pullpause', leaseMs: 30_000, timeoutMs: 2_000 });
  const total = 10_000; // more than the pull buffers (BUFFER_RECORDS, 4,096)
  const p = await Producer.open({ backend });
  await appendAll(p, 0, total);
  await p.close();
  const nc = await connect({ servers: own.url });
  const jsm = await jetstreamManager(nc);
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  let hold!: () => void;
  const held = new Promise<void>((resolve) => { hold = resolve; });
  try {
    const seen: string[] = [];
    const call = c.nonblockingProcess(null, async (m: Message): Promise<'commit'> => {
      if (m.offset === 0) await held;
      seen.push(Buffer.from(m.data).toString());
      return 'commit';
    });
    await waitFor(async () => await consumerCount(jsm, 'pullpause') === 1, 'the pull\'s consumer created', 5_000);
    // The handler holds the first record: the pull fills its buffer, then stops and deletes its consumer.
    await waitFor(async () => await consumerCount(jsm, 'pullpause') === 0, 'the paused pull\'s consumer deleted', 5_000);
    assert.is(seen.length, 0, 'nothing handled while the first record is held');
    hold();
    const summary = await call;
    assert.is(summary.committed, total);
    assert.is(seen.length, total);
    for (let i = 0; i < total; i++) if (seen[i] !== `r${i}`) assert.unreachable(`record ${i} is ${seen[i]}`);
  } finally {
    hold(); // close() waits for the handler
    await c.close();
  }
  await waitFor(async () => await consumerCount(jsm, 'pullpause') === 0, 'the last pull\'s consumer deleted at close()', 5_000);
  await nc.close();
  await own.stop();
});

test('a consumer nats.js makes again after the pull stopped it is deleted, and none of its records is handed out', async () => {
  // nats.js internals, the same module instance dist/jetstream.js loads.
  const consumerJs = createRequire(import.meta.url)(join(dirname(createRequire(import.meta.url).resolve('@nats-io/jetstream')), 'consumer.js')) as {
    PullConsumerMessagesImpl: { prototype: Record<string, (...args: unknown[]) => unknown> };
  };
  const messagesProto = consumerJs.PullConsumerMessagesImpl.prototype;
  const { stop, _push: push } = messagesProto;
  let forced = 0;
  let remadePulls = 0;
  messagesProto.stop = function (this: { done: boolean; reset(): void }, ...args: unknown[]) {
    if (!this.done && forced === 0) {
      forced++;
      this.reset(); // a reset under way as the pull stops the consumer (as after a gap in delivery)
    }
    return stop!.apply(this, args);
  };
  messagesProto._push = function (this: { done: boolean }, ...args: unknown[]) {
    if (this.done && typeof args[0] === 'function') remadePulls++; // a pull request of a stopped consumer
    return push!.apply(this, args);
  };
  const own = await startNats();
  const nc = await connect({ servers: own.url });
  try {
    const backend = jetstream({ servers: own.url, stream: 'pullremade', leaseMs: 30_000, timeoutMs: 2_000 });
    const p = await Producer.open({ backend });
    await appendAll(p, 0, 10_000);
    const jsm = await jetstreamManager(nc);
    const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
    let hold!: () => void;
    const held = new Promise<void>((resolve) => { hold = resolve; });
    const total = 30_000;
    let next = 0;
    const wrong: string[] = [];
    try {
      const call = c.blockingProcess(total, async (m: Message): Promise<'commit'> => {
        if (m.offset === 0) await held;
        const text = Buffer.from(m.data).toString();
        if (m.offset !== next || text !== `r${m.offset}`) wrong.push(`${m.offset}:${text} (expected ${next})`);
        next = m.offset + 1;
        return 'commit';
      });
      await waitFor(() => remadePulls > 0, 'nats.js making the stopped consumer again', 5_000);
      hold();
      await appendAll(p, 10_000, total - 10_000); // the remade consumer reads from where it was stopped
      assert.is((await call).committed, total);
      assert.equal(wrong, [], 'every record once, in order');
    } finally {
      hold();
      await c.close();
      await p.close();
    }
    assert.is(forced, 1);
    await waitFor(async () => await consumerCount(jsm, 'pullremade') === 0, 'no consumer left on the server after close()', 5_000);
  } finally {
    Object.assign(messagesProto, { stop, _push: push });
    await nc.close();
    await own.stop();
  }
});

test('close() while nats.js checks the pull\'s consumer (its info answered after close() deleted it): no consumer is made again, none is left', async () => {
  // nats.js internals, the same module instances dist/jetstream.js loads.
  const req = createRequire(import.meta.url);
  const consumerJs = req(join(dirname(req.resolve('@nats-io/jetstream')), 'consumer.js')) as {
    PullConsumerMessagesImpl: { prototype: Record<string, (...args: unknown[]) => unknown> };
    PullConsumerImpl: { prototype: Record<string, (...args: unknown[]) => unknown> };
  };
  const messagesProto = consumerJs.PullConsumerMessagesImpl.prototype;
  const consumerProto = consumerJs.PullConsumerImpl.prototype;
  const { stop } = messagesProto;
  const { info, delete: del } = consumerProto;
  const own = await startNats();
  const nc = await connect({ servers: own.url });
  const connProto = Object.getPrototypeOf(nc) as { close: (...args: unknown[]) => Promise<void> };
  const { close } = connProto;
  let armed = false;
  let resets = 0;
  let deleted!: () => void;
  const deleteAnswered = new Promise<void>((resolve) => { deleted = resolve; });
  let answered!: () => void;
  const infoAnswered = new Promise<void>((resolve) => { answered = resolve; });
  // close() stops the pull's consumer while a check of it (nats.js's resetPending(), as after missed
  // heartbeats) is under way; its consumer info goes out after the delete was answered ("consumer
  // not found": nats.js then makes the consumer again), and the answer comes before the connection
  // closes (the connection's close waits for it).
  messagesProto.stop = function (this: { done: boolean; resetPending(): Promise<boolean> }, ...args: unknown[]) {
    if (armed && !this.done && resets === 0) {
      resets++;
      void this.resetPending().catch(() => undefined);
    }
    return stop!.apply(this, args);
  };
  consumerProto.delete = function (this: unknown, ...args: unknown[]) {
    const p = del!.apply(this, args) as Promise<unknown>;
    if (armed) void p.finally(deleted).catch(() => undefined);
    return p;
  };
  consumerProto.info = async function (this: unknown, ...args: unknown[]) {
    if (!armed || args[0] === true) return info!.apply(this, args);
    await deleteAnswered;
    try {
      return await info!.apply(this, args);
    } finally {
      setImmediate(answered); // after nats.js handled the answer
    }
  };
  connProto.close = async function (this: unknown, ...args: unknown[]) {
    if (armed) await within(infoAnswered, 5_000, 'the consumer info answered');
    return close!.apply(this, args);
  };
  try {
    const backend = await tenRecords(own.url, 'pullcheck');
    const jsm = await jetstreamManager(nc);
    const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
    try {
      assert.is((await c.nonblockingProcess(null, () => 'commit')).committed, 10);
      assert.is(await consumerCount(jsm, 'pullcheck'), 1, 'the pull\'s consumer is there while the consumer is open');
      armed = true;
    } finally {
      await c.close();
    }
    assert.is(resets, 1, 'a check was under way as close() stopped the consumer');
    await within(infoAnswered, 5_000, 'the consumer info answered');
    armed = false;
    await waitFor(async () => await consumerCount(jsm, 'pullcheck') === 0, 'no consumer left on the server after close()', 5_000);
  } finally {
    armed = false;
    Object.assign(messagesProto, { stop });
    Object.assign(consumerProto, { info, delete: del });
    connProto.close = close;
    await nc.close();
    await own.stop();
  }
});

test('close() with the server stopped (SIGSTOP) past its 1 s wait for the delete: the consumer is deleted once the server goes on', async () => {
  const own = await startNats();
  const nc = await connect({ servers: own.url });
  const jsm = await jetstreamManager(nc);
  try {
    const backend = await tenRecords(own.url, 'pullslow');
    const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
    try {
      assert.is((await c.nonblockingProcess(null, () => 'commit')).committed, 10);
      assert.is(await consumerCount(jsm, 'pullslow'), 1, 'the pull\'s consumer is there while the consumer is open');
      await pauseNats(own); // the delete is sent, and answered only after close() stopped waiting
    } finally {
      await within(c.close(), 5_000, 'close() with the server stopped');
      own.proc.kill('SIGCONT');
    }
    await waitFor(async () => await consumerCount(jsm, 'pullslow') === 0, 'the consumer deleted once the server went on', 5_000);
  } finally {
    own.proc.kill('SIGCONT');
    await nc.close();
    await own.stop();
  }
});

test('a consumers.get() of the pull that fails (timed out) after the server made its consumer: the pull goes on, and that consumer is deleted', async () => {
  const own = await startNats();
  const nc = await connect({ servers: own.url });
  const jsm = await jetstreamManager(nc);
  const proto = Object.getPrototypeOf(natsJetstream(nc).consumers) as { get: (...args: unknown[]) => Promise<unknown> };
  const original = proto.get;
  let lost = 0;
  // The first get's answer comes after its request timed out (as on a loaded machine, where the timer
  // fires before the answer is read): the consumer exists on the server, the pull never gets it.
  proto.get = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const made = await original.apply(this, args);
    if (lost++ === 0) throw new Error('TimeoutError: timeout');
    return made;
  };
  try {
    const backend = await tenRecords(own.url, 'pulllost');
    const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
    try {
      assert.is((await c.nonblockingProcess(null, () => 'commit')).committed, 10);
      assert.ok(lost >= 2, 'the pull made its consumer again after the failed get');
    } finally {
      await c.close();
    }
    await waitFor(async () => await consumerCount(jsm, 'pulllost') === 0, 'no consumer left on the server after close()', 5_000);
  } finally {
    proto.get = original;
    await nc.close();
    await own.stop();
  }
});

runOrSkip(test, 'jetstream: what a stopped consumer leaves');
