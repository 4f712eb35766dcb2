/**
 * repairLog refused because a consumer has the log open (ERR_CURSOR_LOCKED, or ERR_LOG_LOCKED for a
 * nonTx reader) leaves the log directory untouched, its mtime included: it used to take the
 * producer's lock first, creating producer.lock, and remove it again on the refusal, so the
 * directory's mtime moved (and a watcher of the directory saw two changes). Refused bad input
 * changes nothing either.
 */
import * as assert from 'uvu/assert';
import { statSync } from 'node:fs';
import { Consumer, ConsumerStyle, Whence, repairLog } from '../dist/index.js';
import { suite, digestDir, listing, logOf, rejectsWith } from './kit.js';

const test = suite('repair-refused-mtime');
const look = (dir: string): string => [String(statSync(dir, { bigint: true }).mtimeNs), digestDir(dir), ...listing(dir)].join('\n');

test('a repair refused by an open consumer, or by bad input, leaves the directory and its mtime as they were', async () => {
  const logDir = await logOf(5);
  for (const [style, code] of [[ConsumerStyle.clientTx('billing'), 'ERR_CURSOR_LOCKED'], [ConsumerStyle.nonTx(Whence.oldest()), 'ERR_LOG_LOCKED']] as const) {
    const c = await Consumer.open({ logDir, style });
    const before = look(logDir);
    await rejectsWith(repairLog(logDir), code);
    assert.is(look(logDir), before, `refused with ${code}: the directory is untouched`);
    await c.close();
  }
  const before = look(logDir);
  await rejectsWith(repairLog(logDir, { dryRun: 'yes' } as never), 'ERR_INVALID_OPTION');
  await rejectsWith(repairLog(logDir, { bogus: 1 } as never), 'ERR_INVALID_OPTION');
  assert.is(look(logDir), before, 'bad input: the directory is untouched');
  assert.equal((await repairLog(logDir)).cut, null, 'with the consumers closed the repair runs (nothing to cut)');
});

test.run();
