/**
 * consumer-dir-replaced-reading's case for the iterators and the worker pools: a log directory
 * replaced by another log (renamed into its path) while the consumer holds a record, not at a wait
 * on the files. The other log has a segment at every offset, so the next segment the old log's
 * readers open by name is the other log's: they fail with ERR_IO naming the directory, never hand
 * out its records from the old log's offsets.
 */
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, type Message } from '../dist/index.js';
import { replaceLog, twoLogs } from './dir-replaced-kit.js';
import { rejectsWith, suite, waitFor } from './kit.js';

const test = suite('consumer-dir-replaced-iter-pool');
const noting = fileURLToPath(new URL('./fixtures/noting-pool-handler.mjs', import.meta.url));

const tag = (m: Message): string => Buffer.from(m.data).toString().slice(0, 2);

test('iter(): replaced at the 3rd record, the next one fails with ERR_IO', async () => {
  const logs = await twoLogs(6, 10, { roll: true });
  const { logDir } = logs;
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
  const seen: string[] = [];
  let failure: unknown = null;
  try {
    for (const m of c.iter()) {
      seen.push(tag(m));
      if (seen.length === 3) {
        replaceLog(logs);
      }
    }
  } catch (e) {
    failure = e;
  } finally {
    await c.close().catch(() => undefined);
  }
  assert.equal(seen, ['a0', 'a1', 'a2']);
  assert.is((failure as { code?: string } | null)?.code, 'ERR_IO', String(failure));
  assert.match(String(failure), logDir);
});

test('for await: replaced at the 3rd record, the next one fails with ERR_IO', async () => {
  const logs = await twoLogs(6, 10, { roll: true });
  const { logDir } = logs;
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
  const seen: string[] = [];
  const run = (async () => {
    for await (const m of c) {
      seen.push(tag(m));
      if (seen.length === 3) {
        replaceLog(logs);
      }
    }
  })();
  try {
    await rejectsWith(run, 'ERR_IO');
    assert.equal(seen, ['a0', 'a1', 'a2']);
  } finally {
    await c.close().catch(() => undefined);
  }
});

for (const mode of ['blocking', 'nonblocking'] as const) {
  test(`${mode} pool: replaced while the record at offset 2 is held, ERR_IO`, async () => {
    const logs = await twoLogs(6, 10, { roll: true });
  const { root, logDir } = logs;
    const gate = join(root, 'gate');
    process.env.RL_TEST_GATE = gate;
    process.env.RL_TEST_HOLD_AT = '2';
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
    const opts = { workers: 2, batchRecords: 1 };
    const run = mode === 'blocking' ? c.blockingProcess(null, noting, opts) : c.nonblockingProcess(null, noting, opts);
    let failure: unknown = null;
    let ended = false;
    run.then(() => { ended = true; }, (e: unknown) => { failure = e; ended = true; });
    try {
      await waitFor(() => existsSync(`${gate}.held`), 'the pool to hold the record at offset 2');
      replaceLog(logs);
      writeFileSync(gate, '');
      await waitFor(() => ended, 'the call to end');
      const seen = readFileSync(`${gate}.seen`, 'utf8').split(',').filter((s) => s !== '');
      assert.ok(seen.every((s) => s.startsWith('a')), `no record of the other log is handled: ${seen.join(',')}`);
      assert.ok(failure !== null, `the call fails (handled ${seen.join(',')})`);
      await rejectsWith(run, 'ERR_IO');
      assert.match(String(failure), logDir);
    } finally {
      writeFileSync(gate, '');
      delete process.env.RL_TEST_GATE;
      delete process.env.RL_TEST_HOLD_AT;
      await c.close().catch(() => undefined);
    }
  });
}

test.run();
