/**
 * A consumer tailing the files (no producer in its process) that has read its log to the end, whose
 * directory is then replaced by a shorter log: a nonblocking call, `iter()` or a nonblocking pool
 * call found no record past its offset there and ended as at the end of its own log ("nothing new"),
 * until the other log grew past that offset. No wait happens at a nonblocking end, and no file is
 * opened by name, so nothing checked the directory. Each now fails with ERR_IO naming it.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { replaceLog, twoLogs } from './dir-replaced-kit.js';
import { rejectsWith, suite, throwsWith } from './kit.js';

const test = suite('consumer-dir-replaced-at-end');
const noting = fileURLToPath(new URL('./fixtures/noting-pool-handler.mjs', import.meta.url));

/** A clientTx consumer that has read its log of 6 records to the end, whose directory now holds a log of 3. */
async function readThenReplaced(): Promise<{ c: Consumer; logDir: string; root: string }> {
  const logs = await twoLogs(6, 3);
  const c = await Consumer.open({ logDir: logs.logDir, style: ConsumerStyle.clientTx('c') });
  assert.is((await c.nonblockingProcess(null, () => 'commit')).committed, 6);
  replaceLog(logs);
  return { c, logDir: logs.logDir, root: logs.root };
}

test('nonblockingProcess at the end, the directory replaced by a shorter log: ERR_IO', async () => {
  const { c, logDir } = await readThenReplaced();
  try {
    const e = await rejectsWith(c.nonblockingProcess(null, () => 'commit'), 'ERR_IO');
    assert.match(String(e), logDir);
  } finally {
    await c.close().catch(() => undefined);
  }
});

test('iter() at the end, the directory replaced by a shorter log: ERR_IO', async () => {
  const { c, logDir } = await readThenReplaced();
  try {
    const e = throwsWith(() => {
      for (const m of c.iter()) throw new Error(`a record was handed out: ${Buffer.from(m.data).toString()}`);
    }, 'ERR_IO');
    assert.match(String(e), logDir);
  } finally {
    await c.close().catch(() => undefined);
  }
});

test('a nonblocking pool call at the end, the directory replaced by a shorter log: ERR_IO', async () => {
  const { c, logDir, root } = await readThenReplaced();
  process.env.RL_TEST_GATE = join(root, 'gate');
  process.env.RL_TEST_HOLD_AT = '-1';
  try {
    const e = await rejectsWith(c.nonblockingProcess(null, noting, { workers: 2 }), 'ERR_IO');
    assert.match(String(e), logDir);
  } finally {
    delete process.env.RL_TEST_GATE;
    delete process.env.RL_TEST_HOLD_AT;
    await c.close().catch(() => undefined);
  }
});

test.run();
