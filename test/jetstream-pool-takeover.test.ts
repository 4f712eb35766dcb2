/**
 * A pool call on JetStream whose cursor is taken over while a handler runs (the lease expired, as
 * while its holder was paused, and another consumer opened the cursor): the call rejects with
 * ERR_CURSOR_LOCKED, nothing is committed after the takeover, and the new owner hands out every record
 * from the cursor on. An exhausted record whose last attempt ran across the takeover is dead-lettered by
 * the new owner; the old one, which had not noticed yet, may have written it too (docs/consumers.md).
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { jetstream as natsJetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { readTexts, suite, tempDir, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const handler = fileURLToPath(new URL('./fixtures/js-pool-dead-letter-handler.mjs', import.meta.url));
const test = suite('jetstream pool takeover');
let server: NatsServer;
const dirs: string[] = [];
test.before(async () => { server = await startNats(); });
test.after(async () => {
  await stopAllNats();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The cursor lease's entry deleted, as if it expired while its holder was paused. */
async function expireLease(stream: string, key: string): Promise<void> {
  const nc = await connect({ servers: server.url });
  try {
    await (await new Kvm(natsJetstream(nc)).open(`rl-${stream}-leases`)).delete(key);
  } finally {
    await nc.close();
  }
}

for (const last of ['hold', 'holdretry'] as const) {
  const what = last === 'hold' ? 'a record it commits' : 'the last attempt of a record it dead-letters';
  test(`the cursor taken over during ${what}: ERR_CURSOR_LOCKED, nothing committed after it`, async () => {
    const marks = tempDir('rlog-js-pool-to-');
    const out = tempDir('rlog-js-pool-to-out-');
    dirs.push(marks, out);
    process.env.RL_JS_POOL_DL_DIR = marks; // the pool's workers read it when they start
    const stream = `pool-to-${last}-${process.pid}`;
    const backend = jetstream({ servers: server.url, stream, leaseMs: 30_000, timeoutMs: 5_000 });
    const p = await Producer.open({ backend });
    for (let i = 0; i < 8; i++) p.append(i === 3 ? `${last}-${i}` : `rec-${i}`);
    await p.close();
    const a = await Consumer.open({ backend, style: ConsumerStyle.clientTx('t'), retry: { maxAttempts: 2, deadLetterDir: join(out, 'dl-a') } });
    const aRun = a.nonblockingProcess(null, handler, { workers: 1, batchRecords: 1 })
      .then((v) => `resolved ${JSON.stringify(v)}`, (e: { code?: string }) => e.code ?? String(e));
    await waitFor(() => existsSync(join(marks, last === 'hold' ? 'holding-3' : 'running-3')), 'record 3 to run', 30_000);
    // A lane publishes its progress per stripe or at a retry: before record 3 answers, A committed 0 or 3 records.
    if (last === 'holdretry') await waitFor(() => a.committedOffset === 3, 'A to commit records 0-2', 30_000);
    const at = a.committedOffset!;
    await expireLease(stream, 'cursor.client.t');
    const b = await Consumer.open({ backend, style: ConsumerStyle.clientTx('t'), retry: { maxAttempts: 2, deadLetterDir: join(out, 'dl-b') } });
    try {
      writeFileSync(join(marks, 'go-3'), '');
      assert.is(await within(aRun, 30_000, 'A\'s call'), 'ERR_CURSOR_LOCKED');
      const aLetters = existsSync(join(out, 'dl-a')) ? (await readTexts(join(out, 'dl-a'))).length : 0;
      await a.destroy();
      assert.is(b.committedOffset, at, 'B starts where A last committed before the takeover');
      const s = await within(b.nonblockingProcess(null, handler, { workers: 1 }), 30_000, 'B\'s call');
      assert.equal(s, { committed: last === 'hold' ? 8 - at : 4, skipped: last === 'hold' ? 0 : 1, retried: last === 'hold' ? 0 : 2, stoppedBy: 'end' });
      assert.is(b.committedOffset, 8);
      if (last === 'holdretry') {
        assert.is((await readTexts(join(out, 'dl-b'))).length, 1, 'B dead-letters record 3');
        // A had not noticed the takeover: its dead letter is written before its commit is refused, as
        // before a crash (docs/consumers.md, "A dead letter can be written twice").
        assert.ok(aLetters <= 1, `A wrote ${aLetters} dead letters of record 3`);
      }
    } finally {
      await b.close();
      await a.destroy();
    }
  });
}

runOrSkip(test, 'jetstream pool takeover');
