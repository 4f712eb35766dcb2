/**
 * A log directory deleted and made again at the same path starts its offsets over, while its
 * dead-letter directory (beside it) stays. A record of the new log that fails at an offset the old
 * log's record was dead-lettered at gets a dead letter of its own: the dead letters' dedup key holds
 * the record's timestamp and a digest of its bytes, not its offset alone (and no directory identity:
 * test/dead-letter-no-birth-time.test.ts).
 */
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, decodeDeadLetter } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('dead-letter-log-recreated');

async function fill(logDir: string, texts: string[]): Promise<void> {
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  for (const t of texts) p.append(t);
  await p.close();
}

test('the new log\'s record 0 is dead-lettered beside the old log\'s record 0', async () => {
  const root = tempDir();
  const logDir = join(root, 'log');
  const deadLetterDir = join(root, 'dl');
  const retry = { maxAttempts: 1, deadLetterDir };
  await fill(logDir, ['old-0']);
  const a = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c'), retry });
  assert.equal(await a.nonblockingProcess(null, () => 'retry'), { committed: 0, skipped: 1, retried: 1, stoppedBy: 'end' });
  await a.close();
  rmSync(logDir, { recursive: true });
  await fill(logDir, ['new-0']);
  const b = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c'), retry });
  assert.is(b.committedOffset, 0, 'the cursor went with the old directory');
  assert.equal(await b.nonblockingProcess(null, () => 'retry'), { committed: 0, skipped: 1, retried: 1, stoppedBy: 'end' });
  await b.close();
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const letters = [...d.iter()].map((m) => { const l = decodeDeadLetter(m.data); return `${l.offset}:${Buffer.from(l.data).toString()}`; });
  await d.close();
  assert.equal(letters, ['0:old-0', '0:new-0']);
});

test.run();
