/**
 * A cursor file that is a link to a missing file (cursors kept on a disk that is not mounted). It was
 * read as no cursor at all: `Consumer.open` of that clientTx name began a new cursor at the log's
 * start, renamed it over the link and handed every committed record out again, and `verifyLog`
 * passed over it as a cursor deleted meanwhile. The open now fails with ERR_LOG_CORRUPT naming the
 * file, the link stays, and verify reports it as damage.
 */
import * as assert from 'uvu/assert';
import { lstatSync, readlinkSync, renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, ErrorCode, verifyLog } from '../dist/index.js';
import { logOf, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('cursor file: a dangling link');

async function logWithDanglingCursor(): Promise<{ logDir: string; file: string; target: string }> {
  const logDir = await logOf(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(6, () => 'commit');
  await c.close();
  const file = join(logDir, 'cursors', 'client.billing.cursor');
  const target = join(tempDir(), 'unmounted', 'client.billing.cursor');
  symlinkSync(target, `${file}.link`);
  renameSync(`${file}.link`, file);
  return { logDir, file, target };
}

test('Consumer.open of that cursor: ERR_LOG_CORRUPT naming the file, the link left as it was', async () => {
  const { logDir, file, target } = await logWithDanglingCursor();
  const e = await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') }), ErrorCode.LOG_CORRUPT);
  assert.match(e.message, /client\.billing\.cursor/);
  assert.ok(lstatSync(file).isSymbolicLink(), 'the link is still there');
  assert.is(readlinkSync(file), target);
});

test('verifyLog reports it as damage', async () => {
  const { logDir } = await logWithDanglingCursor();
  const report = await verifyLog(logDir);
  assert.not.ok(report.ok, JSON.stringify(report));
});

test.run();
