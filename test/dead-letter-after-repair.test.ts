/**
 * repairLog cuts a damaged log, and the records appended after it take the offsets past the cut again
 * in the same log directory (same device, inode and birth time). A record appended after the repair
 * that fails at an offset where a record cut away was dead-lettered gets a dead letter of its own: it
 * is no repeat of the first one, which the dead-letter log's dedup window would take it for.
 */
import * as assert from 'uvu/assert';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, decodeDeadLetter, repairLog } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { framesOf } from './reader-kit.js';

const test = suite('dead-letter-after-repair');

async function append(logDir: string, texts: string[]): Promise<void> {
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  for (const t of texts) {
    p.append(t);
    await p.flush(); // a frame each
  }
  await p.close();
}

async function letters(deadLetterDir: string): Promise<string[]> {
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...d.iter()].map((m) => { const l = decodeDeadLetter(m.data); return `${l.offset}:${Buffer.from(l.data).toString()}`; });
  } finally {
    await d.close();
  }
}

test('a record failing after a repair at the offset of a dead-lettered record cut away is dead-lettered too', async () => {
  const root = tempDir();
  const logDir = join(root, 'log');
  const deadLetterDir = join(root, 'dl');
  const retry = { maxAttempts: 1, deadLetterDir };
  const failing = (m: { data: Uint8Array }): 'retry' | 'commit' => (Buffer.from(m.data).toString().endsWith('-5') ? 'retry' : 'commit');
  await append(logDir, Array.from({ length: 8 }, (_, i) => `old-${i}`));
  const a = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c'), retry });
  assert.equal(await a.nonblockingProcess(null, failing), { committed: 7, skipped: 1, retried: 1, stoppedBy: 'end' });
  await a.close();
  assert.equal(await letters(deadLetterDir), ['5:old-5']);
  // A byte of record 3's frame goes bad: repair cuts the log at offset 3, and the cursor with it.
  const f = framesOf(logDir)[3]!;
  const fd = openSync(f.path, 'r+');
  try {
    writeSync(fd, Buffer.from([0xff]), 0, 1, f.pos + f.h.frameBytes - 12);
  } finally {
    closeSync(fd);
  }
  const r = await repairLog(logDir, { backupDir: join(root, 'backup') });
  assert.is(r.cut?.offset, 3);
  await append(logDir, Array.from({ length: 5 }, (_, i) => `new-${i + 3}`));
  const b = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c'), retry });
  assert.is(b.committedOffset, 3, 'repair set the cursor back to the cut');
  assert.equal(await b.nonblockingProcess(null, failing), { committed: 4, skipped: 1, retried: 1, stoppedBy: 'end' });
  await b.close();
  assert.equal(await letters(deadLetterDir), ['5:old-5', '5:new-5']);
});

test.run();
