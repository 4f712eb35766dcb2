/**
 * A consumer opened on a log that had no durable.offset yet (a directory no producer had written)
 * could take no readers lock at its open. It takes it once the file is there, at its next look at
 * the end of the log: from then on a repair is refused while it is open, as for any other reader
 * (its position past a cut would pass over the records appended there next).
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, Whence, repairLog } from '../dist/index.js';
import { digestDir, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('readers-lock-late');
const N = 400;

/** A byte flipped in the middle of the third segment of `logDir`. */
function damage(logDir: string): void {
  const segs = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
  assert.ok(segs.length >= 4, `${segs.length} segments`);
  const victim = join(logDir, segs[2]!);
  const bytes = readFileSync(victim);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(victim, bytes);
}

/** N records written to `logDir` by a producer, in several segments; closed. */
async function fill(logDir: string): Promise<void> {
  const p = await Producer.open({ logDir, fileRollSize: 2048, indexIntervalBytes: 512 });
  for (let i = 0; i < N; i++) {
    p.append(`record-${i}-${'y'.repeat(i % 40)}`);
    if (i % 7 === 6) await p.flush(); // several segments
  }
  await p.close();
}

test('a nonTx consumer opened on an empty directory holds the readers lock once it has read the records written since', async () => {
  const logDir = tempDir();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    assert.ok(!existsSync(join(logDir, 'durable.offset')), 'no durable.offset when the consumer opened');
    await fill(logDir);
    let n = 0;
    for (const m of c.iter()) {
      assert.is(m.offset, n);
      n++;
    }
    assert.is(n, N);
    damage(logDir);
    const before = digestDir(logDir);
    await rejectsWith(repairLog(logDir, { backupDir: join(tempDir(), 'backup') }), 'ERR_LOG_LOCKED');
    assert.is(digestDir(logDir), before, 'the repair changed nothing');
  } finally {
    await c.close();
  }
  // Closed: the lock is gone, and the repair goes on.
  const report = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
  assert.ok(report.cut !== null && report.cut.offset < N);
});

test('such a consumer that looks at the end of the log while a repair runs is refused (ERR_LOG_LOCKED), and reads on after it', async () => {
  const logDir = tempDir();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    await fill(logDir);
    damage(logDir);
    let during: unknown = null;
    const report = await repairLog(logDir, {
      backupDir: join(tempDir(), 'backup'),
      onProgress: () => {
        if (during !== null) return;
        try {
          during = [...c.iter()].length;
        } catch (e) {
          during = e;
        }
      },
    });
    assert.is((during as { code?: string }).code, 'ERR_LOG_LOCKED', String(during));
    // The repair is done: the consumer reads the records left, from the oldest.
    let n = 0;
    for (const m of c.iter()) assert.is(m.offset, n++);
    assert.is(n, report.cut!.offset);
  } finally {
    await c.close();
  }
});

test.run();
