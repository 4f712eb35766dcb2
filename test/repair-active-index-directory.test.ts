/**
 * A repair that cuts the log in a sealed segment makes that segment the newest, whose index recovery
 * rewrites and refuses when it is a directory; a repair never replaces a directory (it may hold
 * anything). It resolved, the log then did not open (ERR_LOG_CORRUPT at the index), and a second
 * repair found nothing to do. Now the repair, and its dry run, refuse up front with ERR_LOG_CORRUPT
 * naming the index and what to do, the directory untouched; once the directory is moved away, the
 * repair goes through and the log opens.
 */
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, repairLog } from '../dist/index.js';
import { digestDir, logOf, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('repair: a directory at the index of the segment a cut makes the newest');

test('refused before anything changes, with the remedy; done once the directory is moved away', async () => {
  const logDir = await logOf(Array.from({ length: 60 }, (_, i) => `record ${i} ${'x'.repeat(50)}`), { fileRollSize: 1024, flushAfter: (i) => i % 5 === 4 });
  const segments = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
  assert.ok(segments.length >= 3, segments.join(' '));
  const damaged = join(logDir, segments[1]!);
  const bytes = readFileSync(damaged);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(damaged, bytes);
  const index = segments[1]!.replace('.seg', '.idx');
  rmSync(join(logDir, index));
  mkdirSync(join(logDir, index));
  const before = digestDir(logDir);
  for (const dryRun of [true, false]) {
    const e = await rejectsWith(repairLog(logDir, { dryRun, backupDir: join(tempDir(), 'b') }), 'ERR_LOG_CORRUPT');
    assert.match(e.message, index);
    assert.match(e.message, /move it away, then repair again/);
    assert.is(digestDir(logDir), before, 'nothing changed');
  }
  rmSync(join(logDir, index), { recursive: true });
  const r = await repairLog(logDir, { backupDir: join(tempDir(), 'b') });
  assert.is(r.cut?.file, segments[1]);
  const p = await Producer.open({ logDir });
  try {
    assert.ok(p.nextOffset > 0 && p.nextOffset < 60, `next offset ${p.nextOffset}`);
  } finally {
    await p.close();
  }
});

test.run();
