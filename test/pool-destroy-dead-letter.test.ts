/**
 * destroy() while a pool handler runs the last attempt of a record, which then answers 'retry': no
 * dead letter is written after destroy() (as without a pool). The record is not completed; the next
 * owner runs it again and dead-letters it then, once.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded } from './pool-kit.js';
import { suite, logOf, tempDir, waitFor, readTexts } from './kit.js';

const test = suite('pool destroy dead letter');
const handler = fileURLToPath(new URL('./fixtures/pool-calls-handler.mjs', import.meta.url));

test('a last attempt answering retry after destroy() writes no dead letter', async () => {
  const records = Array.from({ length: 10 }, (_, i) => (i === 3 ? `lastretry-${i}` : `rec-${i}`));
  const logDir = await logOf(records, POOL_LOG);
  const deadLetterDir = join(tempDir(), 'dl');
  const retry = { maxAttempts: 2, deadLetterDir };
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('d'), retry });
  const call = guarded(c.nonblockingProcess(null, handler, { workers: 1 }).then((v) => `resolved ${JSON.stringify(v)}`, (e: { code?: string }) => e.code));
  await waitFor(() => existsSync(join(logDir, 'running-3')), 'the last attempt of record 3 to run');
  await c.destroy();
  writeFileSync(join(logDir, 'go-3'), '');
  assert.is(await call, 'ERR_LOG_CLOSED');
  // The next owner (once destroy() let the lock go) starts at record 3 at the latest.
  const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('d'), retry });
  const letters = existsSync(deadLetterDir) ? (await readTexts(deadLetterDir)).length : 0;
  assert.ok(d.committedOffset! <= 3, 'record 3 was not completed');
  assert.is(letters, 0, `${letters} dead letter(s) written after destroy()`);
  const s = await guarded(d.nonblockingProcess(null, handler, { workers: 1 }));
  await d.close();
  assert.equal((s as { skipped: number }).skipped, 1, 'the next owner dead-letters record 3');
  assert.is((await readTexts(deadLetterDir)).length, 1, 'one dead letter in all');
});

test.run();
