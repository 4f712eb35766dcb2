/**
 * A transactional open on a log without durable.offset (no producer wrote it yet, or an OS crash lost
 * it) finds its start once before it holds the readers lock, then creates the file, locks it and finds
 * its start again. A repair that takes the log in between refuses the open (ERR_LOG_LOCKED): that
 * refused open leaves the directory as it found it. No cursors/ folder, no cursor file moved, and a
 * dead owner's lock file keeps its information, so that what the repair reads and the next open finds
 * are the log's own. The repair is played by a file layer (fixtures/repair-at-look-io.mjs) that takes
 * repairLog's lock at the open's first look at durable.offset.
 */
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { digestDir, logOf, rejectsWith, suite } from './kit.js';

const test = suite('cursor-open-repair-race');
const REPAIR_AT_LOOK = fileURLToPath(new URL('./fixtures/repair-at-look-io.mjs', import.meta.url));

/** Consumer.open of cursor `id` on `logDir` while a repair takes the log after the open's first look; the repair's lock is let go after. */
async function openAcrossRepair(logDir: string, id: string): Promise<void> {
  process.env.REACTIVE_LOG_TEST_FILE_IO = REPAIR_AT_LOOK;
  process.env.REPAIR_AT_LOOK_DIR = logDir;
  const g = globalThis as { __repairAtLook?: { release(): void } };
  try {
    await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) }), 'ERR_LOG_LOCKED');
  } finally {
    delete process.env.REACTIVE_LOG_TEST_FILE_IO;
    delete process.env.REPAIR_AT_LOOK_DIR;
    g.__repairAtLook?.release();
    delete g.__repairAtLook;
  }
}

/** A log of `n` records in several segments, without durable.offset. */
async function logWithoutHint(n: number): Promise<string> {
  const records = Array.from({ length: n }, (_, i) => `r${i}-${'y'.repeat(100)}`);
  const logDir = await logOf(records, { fileRollSize: 2048, indexIntervalBytes: 512, flushAfter: (i: number) => i % 7 === 6 });
  rmSync(join(logDir, 'durable.offset'));
  return logDir;
}

test('a first transactional open refused by a repair creates no cursors/ folder', async () => {
  const logDir = await logWithoutHint(60);
  const before = digestDir(logDir);
  await openAcrossRepair(logDir, 'first');
  assert.ok(!existsSync(join(logDir, 'cursors')), `left: ${readdirSync(logDir).join(', ')}`);
  assert.is(digestDir(logDir), before);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('first') });
  assert.is(c.nextOffset, 0);
  await c.close();
});

test('a refused open leaves a never-committed cursor behind a moved start, and a dead owner\'s lock file, as they were', async () => {
  const logDir = await logWithoutHint(60);
  const c0 = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('behind') });
  await c0.close(); // never committed: it stands for "from the oldest record"
  rmSync(join(logDir, 'durable.offset'));
  // Retention deleted the oldest segment (the log start moved past the cursor).
  const segments = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort();
  assert.ok(segments.length >= 3, `segments: ${segments.join(', ')}`);
  const oldest = segments[0]!.slice(0, -'.seg'.length);
  for (const ext of ['.seg', '.idx']) rmSync(join(logDir, oldest + ext), { force: true });
  // A consumer that held the cursor died: its lock file names it.
  writeFileSync(join(logDir, 'cursors', 'client.behind.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, start: '1', host: hostname(), thread: 0 }));
  const lockFile = join(logDir, 'cursors', 'client.behind.lock');
  const cursorFile = join(logDir, 'cursors', 'client.behind.cursor');
  const [lockWas, cursorWas, before] = [readFileSync(lockFile), readFileSync(cursorFile), digestDir(logDir)];
  await openAcrossRepair(logDir, 'behind');
  assert.ok(existsSync(lockFile), 'the dead owner\'s lock file is there');
  assert.equal(readFileSync(lockFile), lockWas, 'the dead owner\'s lock file as it was');
  assert.equal(readFileSync(cursorFile), cursorWas, 'the cursor file as it was');
  assert.is(digestDir(logDir), before);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('behind') });
  assert.ok(c.nextOffset > 0, `starts at ${c.nextOffset}`);
  await c.close();
});

test.run();
