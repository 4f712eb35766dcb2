/**
 * destroy() while a pool call on JetStream commits the records before an exhausted one (the cursor's
 * key-value write in flight, its answer held back): the dead letter is not written, the record is not
 * completed, and the next owner dead-letters it once (docs/consumers.md, "maxAttempts"): destroy() ends
 * the commit in flight (ride.ts), so the round never reaches the dead letter. Skipped with
 * a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { readTexts, suite, tempDir, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const handler = fileURLToPath(new URL('./fixtures/js-pool-dead-letter-handler.mjs', import.meta.url));
const test = suite('jetstream pool destroy dead letter');
let server: NatsServer;
const dirs: string[] = [];
test.before(async () => { server = await startNats(); });
test.after(async () => {
  await stopAllNats();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('destroy() during the commit before a dead letter writes no dead letter; the next owner writes it once', async () => {
  const marks = tempDir('rlog-js-pool-dl-');
  const deadLetterDir = join(tempDir('rlog-js-pool-dl-out-'), 'dl');
  dirs.push(marks, join(deadLetterDir, '..'));
  process.env.RL_JS_POOL_DL_DIR = marks; // the pool's workers read it when they start
  const stream = `pool-dl-${process.pid}`;
  const p = await Producer.open({ backend: jetstream({ servers: server.url, stream, leaseMs: 30_000 }) });
  for (let i = 0; i < 12; i++) p.append(i === 3 ? `hold-${i}` : i === 4 ? `retry-${i}` : `rec-${i}`);
  await p.close();
  const proxy = await proxyTo(server.port);
  try {
    const backend = jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: 5_000 });
    const retry = { maxAttempts: 2, deadLetterDir };
    const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('d'), retry, commit: { everyRecords: 1 } });
    // Two lanes of 4 records: lane 0 holds records 0-3 (3 waits for go-3), lane 1 exhausts record 4 and goes on to 7.
    const call = c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 4 })
      .then((v) => `resolved ${JSON.stringify(v)}`, (e: { code?: string }) => e.code ?? String(e));
    await waitFor(() => existsSync(join(marks, 'retried-4-2')) && existsSync(join(marks, 'done-7')), 'record 4 exhausted and lane 1 past it', 30_000);
    // The server's answers held back: the commit of records 0-3 (made before record 4's dead letter) waits.
    proxy.hold();
    writeFileSync(join(marks, 'go-3'), '');
    await waitFor(() => proxy.published(`$KV.rl-${stream}-cursors.`) >= 1, 'the commit before the dead letter to be sent', 30_000);
    const destroyed = c.destroy();
    proxy.release();
    const outcome = await within(call, 30_000, 'the call');
    await within(destroyed, 30_000, 'destroy()');
    const letters = existsSync(deadLetterDir) ? (await readTexts(deadLetterDir)).length : 0;
    assert.is(letters, 0, `${letters} dead letter(s) written after destroy() (the call: ${outcome})`);
    const d = await Consumer.open({ backend, style: ConsumerStyle.clientTx('d'), retry });
    try {
      assert.ok(d.committedOffset! <= 4, `record 4 was not completed (committed ${d.committedOffset})`);
      await within(d.nonblockingProcess(null, handler, { workers: 1 }), 30_000, 'the next owner\'s call');
    } finally {
      await d.close();
    }
    assert.is((await readTexts(deadLetterDir)).length, 1, 'one dead letter in all');
  } finally {
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream pool destroy dead letter');
