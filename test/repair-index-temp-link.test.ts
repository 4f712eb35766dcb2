/**
 * repairLog rebuilds a damaged sealed index under the temporary name `<base>.idx.new`, then renames it
 * over the index. A symbolic link found at that name (planted, or left by a copy tool) was opened for
 * writing and followed: the file it named, outside the log, was truncated and filled with index
 * entries, and the link itself was renamed into place as the segment's index. The temporary file is
 * now always created anew (whatever is at its name goes first), so nothing outside the log changes
 * and the index is a regular file.
 */
import * as assert from 'uvu/assert';
import { lstatSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repairLog, verifyLog } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('repair-index-temp-link');

test('a symbolic link at <base>.idx.new: the file it names is left alone, the rebuilt index is a regular file', async () => {
  const { logDir } = await logWithCursor();
  const idx = readdirSync(logDir).filter((f) => f.endsWith('.idx')).sort()[1]!;
  const b = readFileSync(join(logDir, idx));
  b[16 + 8] ^= 0x01; // the position of its second entry
  writeFileSync(join(logDir, idx), b);
  const outside = tempDir();
  const victim = join(outside, 'precious.txt');
  writeFileSync(victim, 'not the log\'s');
  symlinkSync(victim, join(logDir, `${idx}.new`));

  const report = await repairLog(logDir);
  assert.equal(report.actions.map((a) => a.action), ['rebuild-index']);
  assert.is(readFileSync(victim, 'utf8'), 'not the log\'s', 'the file the link names is unchanged');
  assert.ok(lstatSync(join(logDir, idx)).isFile(), 'the index is a regular file, not the link');
  assert.equal(readdirSync(logDir).filter((f) => f.endsWith('.new')), [], 'no temporary file is left');
  const after = await verifyLog(logDir);
  assert.is(after.ok, true, after.findings.map((f) => `${f.severity} ${f.file}: ${f.message}`).join('\n'));
  rmSync(logDir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

test.run();
