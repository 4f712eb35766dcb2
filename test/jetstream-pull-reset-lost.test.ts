/**
 * nats.js makes an ordered consumer again (a reset: after a gap in delivery, missed heartbeats) under
 * the next name of its prefix, `<prefix>_<n+1>`. When that creation fails (forced here: a timeout
 * thrown once the server made the consumer, as when the answer comes after the request timed out
 * on a loaded machine), nats.js tries again under `<prefix>_<n+2>`, and deletes neither the consumer
 * the failed try made nor, later, the one it goes on with once the pull stops it. The pull deletes
 * every name of its consumer's prefix up to the current one at close(): no consumer is left on the
 * server, and the records go on arriving through the consumer made again, each once, in order.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, Whence, type Message } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { appendAll, runOrSkip, startNats, stopAllNats } from './nats-kit.js';

const test = suite('jetstream: a reset of the pull\'s consumer whose creation timed out');
test.after(stopAllNats);

test('a consumer nats.js made again in a reset whose creation timed out is deleted at close()', async () => {
  // nats.js internals, the same module instances dist/jetstream.js loads.
  const req = createRequire(import.meta.url);
  const lib = dirname(req.resolve('@nats-io/jetstream'));
  const consumerJs = req(join(lib, 'consumer.js')) as { PullConsumerMessagesImpl: { prototype: Record<string, (...args: unknown[]) => unknown> } };
  const apiJs = req(join(lib, 'jsmconsumer_api.js')) as { ConsumerAPIImpl: { prototype: Record<string, (...args: unknown[]) => unknown> } };
  const messagesProto = consumerJs.PullConsumerMessagesImpl.prototype;
  const apiProto = apiJs.ConsumerAPIImpl.prototype;
  const { start } = messagesProto;
  const { add } = apiProto;
  const seen: { live: { reset(): void } | null } = { live: null };
  const made: string[] = [];
  let lost = 0;
  messagesProto.start = function (this: { reset(): void }, ...args: unknown[]) {
    seen.live = this; // the pull's messages (the one consumer of this test's consumer)
    return start!.apply(this, args);
  };
  apiProto.add = async function (this: unknown, ...args: unknown[]) {
    const name = String((args[1] as { name?: unknown } | undefined)?.name);
    const ci = await add!.apply(this, args);
    made.push(name);
    // The first creation of a reset (serial 2): its answer comes after the request timed out.
    if (name.endsWith('_2') && lost++ === 0) throw new Error('TimeoutError: timeout');
    return ci;
  };
  const own = await startNats();
  const nc = await connect({ servers: own.url });
  try {
    const jsm = await jetstreamManager(nc);
    const backend = jetstream({ servers: own.url, stream: 'pullresetlost', leaseMs: 30_000, timeoutMs: 2_000 });
    const p = await Producer.open({ backend });
    await appendAll(p, 0, 10);
    const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
    let next = 0;
    const wrong: string[] = [];
    try {
      const call = c.blockingProcess(20, (m: Message): 'commit' => {
        const text = Buffer.from(m.data).toString();
        if (m.offset !== next || text !== `r${m.offset}`) wrong.push(`${m.offset}:${text} (expected ${next})`);
        next = m.offset + 1;
        return 'commit';
      });
      await waitFor(() => next === 10, 'the first ten records handled', 10_000);
      assert.ok(seen.live !== null, 'the pull\'s messages seen');
      seen.live.reset(); // as nats.js does after a gap in delivery
      await waitFor(() => made.some((n) => n.endsWith('_3')), 'nats.js making the consumer again after the lost creation', 10_000);
      assert.ok(made.some((n) => n.endsWith('_2')), 'the lost creation made its consumer on the server');
      await appendAll(p, 10, 10); // they arrive through the consumer made again
      assert.is((await call).committed, 20);
      assert.equal(wrong, [], 'every record once, in order');
    } finally {
      await c.close();
      await p.close();
    }
    const left = async (): Promise<string[]> => {
      const out: string[] = [];
      for await (const ci of jsm.consumers.list('pullresetlost')) out.push(ci.name);
      return out;
    };
    try {
      await waitFor(async () => (await left()).length === 0, 'no consumer left on the server after close()', 5_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}; left: ${JSON.stringify(await left())}`, { cause: e });
    }
  } finally {
    Object.assign(messagesProto, { start });
    Object.assign(apiProto, { add });
    await nc.close();
    await own.stop();
  }
});

runOrSkip(test, 'jetstream: a reset of the pull\'s consumer whose creation timed out');
