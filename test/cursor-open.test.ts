/**
 * Opening a transactional cursor against what the log's files hold: `durable.offset` is a hint that
 * is never fsynced (docs/durability.md), so after an OS crash it may name an older end than a cursor
 * whose commit proves its records were durable. That is not damage; a cursor past the records the
 * files hold is.
 */
import * as assert from 'uvu/assert';
import { readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { encodeDurableHint } from '../src/storage/durable-hint.js';
import { suite, rejectsWith, tempDir } from './kit.js';

const test = suite('cursor-open');

async function committedAt(n: number): Promise<string> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  for (let i = 0; i < n; i++) p.append(`r${i}`);
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(null, () => 'commit');
  assert.is(c.committedOffset, n);
  await c.close();
  return logDir;
}

test('a durable.offset older than a committed cursor (an OS crash lost its last rewrites) opens the cursor', async () => {
  const logDir = await committedAt(100);
  writeFileSync(join(logDir, 'durable.offset'), encodeDurableHint(40));
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  assert.is(c.nextOffset, 100);
  await c.close();
});

test('a cursor past the records the files hold is ERR_LOG_CORRUPT', async () => {
  const logDir = await committedAt(100);
  const segment = join(logDir, readdirSync(logDir).find((n) => n.endsWith('.seg'))!);
  truncateSync(segment, 32); // the segment header only: every record gone
  writeFileSync(join(logDir, 'durable.offset'), encodeDurableHint(0));
  const err = await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') }), 'ERR_LOG_CORRUPT');
  assert.match(err.message, /cursor client\.billing points at offset 100/);
});

test.run();
