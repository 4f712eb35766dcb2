/**
 * A consumer open refused on a log without durable.offset leaves the directory untouched. The open
 * finds its start once without the lock, then creates durable.offset (empty) to hold the readers'
 * lock and finds the start again under it: a refusal only that second look sees (the cursor locked by
 * another consumer) left the empty durable.offset it had created behind.
 */
import * as assert from 'uvu/assert';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { suite, digestDir, listing, logOf, rejectsWith } from './kit.js';

const test = suite('consumer-open-refused-hint');

test('an open refused for a locked cursor, on a log without durable.offset, does not create it', async () => {
  const logDir = await logOf(5);
  const holder = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  rmSync(join(logDir, 'durable.offset'));
  const before = [digestDir(logDir), ...listing(logDir)].join('\n');
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') }), 'ERR_CURSOR_LOCKED');
  assert.ok(!existsSync(join(logDir, 'durable.offset')), 'no durable.offset made by the refused open');
  assert.is([digestDir(logDir), ...listing(logDir)].join('\n'), before, 'the log directory is untouched');
  await holder.close();
  // Once the cursor is free the open goes on, and creates the file to hold the readers' lock.
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  assert.ok(existsSync(join(logDir, 'durable.offset')));
  await c.close();
});

test.run();
