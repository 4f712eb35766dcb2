/**
 * On JetStream too, ctx.state and consumer.state are a plain Uint8Array (never a Buffer), however the
 * state was set, before and after a reopen (test/ctx-state-type.test.ts for the local log and pools).
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream ctx-state-type');
let server: NatsServer;
let backend: ReturnType<typeof jetstream>;
test.before(async () => {
  server = await startNats();
  backend = jetstream({ servers: server.url, stream: `rstate-${process.pid}`, leaseMs: 5_000, timeoutMs: 2_000 });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 6; i++) p.append(`r${i}`);
  await within(p.flush(), 10_000, 'flush');
  await p.close();
});
test.after(stopAllNats);

/** 'Buffer', 'Uint8Array' (this realm's, plain), 'null' or 'other'. */
const kind = (v: unknown): string => (v === null ? 'null' : Buffer.isBuffer(v) ? 'Buffer' : Object.getPrototypeOf(v) === Uint8Array.prototype ? 'Uint8Array' : 'other');

for (const [name, value] of [['a string', 'abc'], ['a Buffer', Buffer.from('abc')]] as const) {
  test(`state set from ${name}: ctx.state and consumer.state are a plain Uint8Array`, async () => {
    const id = name === 'a string' ? 's' : 'b';
    const seen: string[] = [];
    const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx(id) });
    try {
      await within(c.nonblockingProcess(2, (m, ctx) => {
        if (m.offset === 0) ctx.setState(value);
        else seen.push(kind(ctx.state));
        return 'commit';
      }), 10_000, 'the call');
      seen.push(kind(c.state));
    } finally {
      await c.close();
    }
    const again = await Consumer.open({ backend, style: ConsumerStyle.clientTx(id) });
    try {
      seen.push(kind(again.state));
      await within(again.nonblockingProcess(1, (_m, ctx) => { seen.push(kind(ctx.state)); return 'commit'; }), 10_000, 'the call');
      assert.is(Buffer.from(again.state ?? []).toString(), 'abc');
    } finally {
      await again.close();
    }
    assert.equal(seen, ['Uint8Array', 'Uint8Array', 'Uint8Array', 'Uint8Array']);
  });
}

runOrSkip(test, 'jetstream ctx-state-type');
