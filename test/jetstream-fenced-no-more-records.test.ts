/**
 * A consumer fenced off its JetStream cursor (its lease expired and another consumer took the cursor
 * over: its commit was refused with ERR_CURSOR_LOCKED) runs no record more: each later processing call
 * rejects with ERR_CURSOR_LOCKED before any handler runs, with a handler function or a pool. Those
 * records are the new owner's; the fenced consumer ran them (a pool as many as it could before its
 * coordinator's first commit), repeating their effects, only to fail the commit. Skipped with a printed
 * reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstream as natsJetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const handler = fileURLToPath(new URL('./fixtures/js-pool-dead-letter-handler.mjs', import.meta.url));
const test = suite('jetstream fenced consumer runs no more records');
let server: NatsServer;
const dirs: string[] = [];
test.before(async () => { server = await startNats(); });
test.after(async () => {
  await stopAllNats();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const code = (p: Promise<unknown>): Promise<string> => p.then((v) => `resolved ${JSON.stringify(v)}`, (e: { code?: string }) => e.code ?? String(e));

test('after ERR_CURSOR_LOCKED, later calls reject at once with it and run no handler', async () => {
  const marks = tempDir('rlog-js-fenced-');
  dirs.push(marks);
  process.env.RL_JS_POOL_DL_DIR = marks;
  const stream = `fenced-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 30_000, timeoutMs: 5_000 });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 100; i++) p.append(i === 3 ? 'hold-3' : `rec-${i}`);
  await p.close();
  const a = await Consumer.open({ backend, style: ConsumerStyle.globalTx() });
  const first = code(a.nonblockingProcess(null, handler, { workers: 1, batchRecords: 1 }));
  await waitFor(() => existsSync(join(marks, 'holding-3')), 'record 3 to run', 30_000);
  const nc = await connect({ servers: server.url });
  try {
    await (await new Kvm(natsJetstream(nc)).open(`rl-${stream}-leases`)).delete('cursor.global'); // expired, as while A was paused
  } finally {
    await nc.close();
  }
  const b = await Consumer.open({ backend, style: ConsumerStyle.globalTx() });
  try {
    writeFileSync(join(marks, 'go-3'), '');
    assert.is(await within(first, 30_000, 'A\'s first call'), 'ERR_CURSOR_LOCKED');
    for (const f of readdirSync(marks)) rmSync(join(marks, f));
    let ran = 0;
    assert.is(await within(code(a.nonblockingProcess(null, () => { ran++; return 'commit'; })), 30_000, 'A\'s call with a function'), 'ERR_CURSOR_LOCKED');
    assert.is(await within(code(a.nonblockingProcess(null, handler, { workers: 1 })), 30_000, 'A\'s pool call'), 'ERR_CURSOR_LOCKED');
    assert.is(ran, 0, 'the handler function ran no record');
    assert.equal(readdirSync(marks).filter((f) => f.startsWith('done-')), [], 'the pool ran no record');
  } finally {
    await a.destroy();
    await b.close();
  }
});

runOrSkip(test, 'jetstream fenced consumer runs no more records');
