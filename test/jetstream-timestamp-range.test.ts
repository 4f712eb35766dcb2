/**
 * Whence.timestamp(ms) on JetStream takes any finite ms, as a local log does: a time before the
 * stream's first record (Number.MIN_SAFE_INTEGER, a time before the epoch, one before Date's range)
 * starts at the oldest record; a time after the newest record (Number.MAX_SAFE_INTEGER) at the end.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { closeAfter, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream timestamp range');
let server: NatsServer;

test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

async function firstOffset(backend: ReturnType<typeof jetstream>, ms: number): Promise<string> {
  try {
    const c = await within(Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.timestamp(ms)) }), 10_000, 'open');
    let first = -1;
    await closeAfter(c, () => c.nonblockingProcess(null, (m) => { if (first < 0) first = m.offset; return 'commit'; }));
    return `offset ${first}`;
  } catch (e) {
    return `${(e as { code?: string }).code} ${(e as Error).message}`;
  }
}

test('times outside Date\'s range and before the epoch: the oldest record, or none past the newest', async () => {
  const backend = jetstream({ servers: server.url, stream: `rlts-${process.pid}`, leaseMs: 5_000, timeoutMs: 1_000 });
  const p = await Producer.open({ backend });
  for (const d of ['a', 'b', 'c']) p.append(d);
  await p.close();
  for (const ms of [Number.MIN_SAFE_INTEGER, -8.64e15 - 1, -1, 0]) assert.is(await firstOffset(backend, ms), 'offset 0', String(ms));
  assert.is(await firstOffset(backend, Number.MAX_SAFE_INTEGER), 'offset -1');
});

runOrSkip(test, 'jetstream timestamp range');
