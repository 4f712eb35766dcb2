/**
 * A retry.deadLetterDir the system can never make a directory of is refused by Consumer.open with
 * ERR_INVALID_OPTION naming retry.deadLetterDir: a name in the path past the 255 bytes a directory
 * entry takes, a path past the system's length limit, or a path through a symlink loop. It was
 * taken, and every call that reached a dead letter failed with ERR_IO, the record never completing.
 * The refusal leaves the log and the place of the dead-letter directory untouched.
 */
import * as assert from 'uvu/assert';
import { readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence } from '../dist/index.js';
import { suite, tempDir, rejectsWith, digestDir, logOf } from './kit.js';

const test = suite('dead-letter-dir-checked-at-open');

test('an explicit deadLetterDir too long, or through a symlink loop: ERR_INVALID_OPTION at open, nothing written', async () => {
  const logDir = await logOf(2);
  const base = tempDir();
  symlinkSync('loop', join(base, 'loop'));
  const cases: Record<string, string> = {
    'a name past 255 bytes': join(base, 'd'.repeat(256)),
    'a name past 255 bytes inside': join(base, 'd'.repeat(256), 'dl'),
    'a path past the system limit': join(base, ...Array.from({ length: 24 }, () => 'p'.repeat(200))),
    'a symlink loop': join(base, 'loop'),
    'a path through a symlink loop': join(base, 'loop', 'dl'),
  };
  const before = [digestDir(logDir), ...readdirSync(base).sort()].join('\n');
  for (const [what, deadLetterDir] of Object.entries(cases)) {
    for (const style of [ConsumerStyle.nonTx(Whence.oldest()), ConsumerStyle.clientTx('billing')]) {
      let c: Consumer | null = null;
      const err = await rejectsWith(async () => {
        c = await Consumer.open({ logDir, style, retry: { maxAttempts: 1, deadLetterDir } });
        const s = await c.nonblockingProcess(null, () => 'retry');
        throw new Error(`${what} (${style.kind}): accepted at open; the first dead letter then gave ${JSON.stringify(s)}`);
      }, 'ERR_INVALID_OPTION').catch(async (e: Error) => {
        const late = c === null ? '' : await (c as Consumer).nonblockingProcess(null, () => 'retry').then(() => 'nothing', (x: Error & { code?: string }) => `${x.code}: ${x.message.slice(0, 120)}`);
        await (c as Consumer | null)?.close();
        throw new Error(`${what} (${style.kind}): ${e.message}${late === '' ? '' : `; a dead letter then failed with ${late}`}`.slice(0, 600));
      });
      assert.is((err as Error & { details?: { option?: string } }).details?.option, 'retry.deadLetterDir', `${what}: ${err.message}`);
      assert.is([digestDir(logDir), ...readdirSync(base).sort()].join('\n'), before, `${what}: nothing written`);
    }
  }
});

test.run();
