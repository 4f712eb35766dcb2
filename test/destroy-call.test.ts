/**
 * destroy() in the middle of a call: a handler whose last attempt answers 'retry' after destroy()
 * writes no dead letter (its record is not completed and comes again to the next owner, which
 * dead-letters it then, once); destroy(value) with a value that is not an Error makes the call
 * reject with ERR_LOG_CLOSED, not with the raw value.
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence } from '../dist/index.js';
import { suite, logOf, waitFor, tempDir, readTexts } from './kit.js';

const test = suite('destroy-call');

test('a handler answering its last retry after destroy() writes no dead letter', async () => {
  const logDir = await logOf(1);
  const deadLetterDir = join(tempDir(), 'dl');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('y'), retry: { maxAttempts: 1, deadLetterDir } });
  let running = false;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => { release = r; });
  const call = c.nonblockingProcess(null, async () => { running = true; await gate; return 'retry' as const; }).then(() => null, (e: { code?: string }) => e.code);
  await waitFor(() => running, 'the handler to run');
  await c.destroy();
  release();
  assert.is(await call, 'ERR_LOG_CLOSED');
  const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('y') });
  const committed = d.committedOffset;
  await d.close();
  assert.is(committed, 0, 'the record was not completed (destroy)');
  const letters = existsSync(deadLetterDir) ? (await readTexts(deadLetterDir)).length : 0;
  assert.is(letters, 0, `destroy() dropped the record's completion, yet ${letters} dead letter(s) for it were written after destroy()`);
  // The next owner dead-letters it, once.
  const e = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('y'), retry: { maxAttempts: 1, deadLetterDir } });
  assert.equal(await e.nonblockingProcess(null, () => 'retry'), { committed: 0, skipped: 1, retried: 1, stoppedBy: 'end' });
  await e.close();
  assert.is((await readTexts(deadLetterDir)).length, 1);
});

test('destroy(non-Error): the call in progress rejects with an Error, not the raw value', async () => {
  const logDir = await logOf(1);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  let running = false;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => { release = r; });
  const call = c.nonblockingProcess(null, async () => { running = true; await gate; return 'commit' as const; }).then(() => null, (e: unknown) => e);
  await waitFor(() => running, 'the handler to run');
  await c.destroy('boom' as never);
  release();
  const e = await call;
  assert.ok(e instanceof Error, `the call rejected with ${typeof e} ${JSON.stringify(e)}`);
  assert.is((e as { code?: string }).code, 'ERR_LOG_CLOSED');
});

test.run();
