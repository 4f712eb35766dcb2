/**
 * A nonblocking pool call on JetStream with group commit makes the cursor durable before it returns,
 * as a call with a handler function does (docs/consumers.md: whatever the commit policy, the cursor is
 * made durable at the end of every processing call): committedOffset is the call's end once the call
 * has returned, and a final commit that fails rejects the call with its LogError (not an unhandled
 * rejection after the call resolved). Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstream as natsJetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer, isLogError } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir } from './kit.js';
import { closeAfter, runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const handler = fileURLToPath(new URL('./fixtures/conformance-pool-handler.mjs', import.meta.url));
const test = suite('jetstream pool call durable');
let server: NatsServer;
const dirs: string[] = [];
/** Rejections nobody handled while the file runs: a commit's failure must reach its call instead. */
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => { unhandled.push(e); };
test.before(async () => {
  server = await startNats();
  process.on('unhandledRejection', onUnhandled);
});
test.after(async () => {
  process.off('unhandledRejection', onUnhandled);
  await stopAllNats();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A stream of 50 records "rec-<n>" (every third with a key and a header, as the handler checks). */
async function filled(stream: string): Promise<ReturnType<typeof jetstream>> {
  const dir = tempDir('rlog-js-pool-durable-');
  dirs.push(dir);
  process.env.RL_CONF_POOL_DIR = dir; // where the handler logs the records it handled
  const backend = jetstream({ servers: server.url, stream, leaseMs: 30_000, timeoutMs: 2_000 });
  const p = await Producer.open({ backend });
  await closeAfter(p, async () => {
    for (let i = 0; i < 50; i++) p.append(`rec-${i}`, i % 3 === 0 ? { key: `k${i}`, headers: { h: `v${i}` } } : undefined);
    await p.flush();
  });
  return backend;
}

/** A nonblocking call over the whole stream, in a pool or with a handler function. */
function call(c: Consumer, pool: boolean): Promise<unknown> {
  return pool ? c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 8 }) : c.nonblockingProcess(null, () => 'commit');
}

for (const pool of [true, false]) {
  const how = pool ? 'in a pool' : 'with a handler function';
  test(`group commit, a nonblocking call ${how}: the cursor is durable at the call's end once it returns`, async () => {
    const backend = await filled(`durable-${pool ? 'pool' : 'fn'}`);
    const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('g'), commit: { everyRecords: 1000 } });
    try {
      const s = await within(call(c, pool), 20_000, 'the call');
      assert.is(c.committedOffset, 50, 'committedOffset right after the call returned');
      assert.equal(s, { committed: 50, skipped: 0, retried: 0, stoppedBy: 'end' });
    } finally {
      await c.close();
    }
  });

  test(`group commit, a nonblocking call ${how} whose final commit is refused: the call rejects with ERR_CURSOR_LOCKED`, async () => {
    const stream = `refused-${pool ? 'pool' : 'fn'}`;
    const backend = await filled(stream);
    const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('g'), commit: { everyRecords: 1000 } });
    // Another writer rewrites the cursor's entry: the call's one commit (at its end) fails its revision check.
    const nc = await connect({ servers: server.url });
    try {
      const kv = await new Kvm(natsJetstream(nc)).open(`rl-${stream}-cursors`);
      const entry = await kv.get('client.g');
      assert.ok(entry !== null, 'the cursor entry exists');
      await kv.put('client.g', entry.value);
    } finally {
      await nc.close();
    }
    const before = unhandled.length;
    const got = await within(call(c, pool).then((v) => v, (e: unknown) => e), 20_000, 'the call');
    await c.destroy();
    // A turn of the event loop: a rejection nobody handled is reported by then.
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(isLogError(got) && got.code === 'ERR_CURSOR_LOCKED', `the call rejects with ERR_CURSOR_LOCKED, got ${JSON.stringify(got) ?? String(got)}`);
    assert.equal(unhandled.slice(before).map(String), [], 'no unhandled rejection');
    assert.is(c.committedOffset, 0, 'nothing committed');
  });
}

runOrSkip(test, 'jetstream pool call durable');
