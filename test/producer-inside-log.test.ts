/**
 * Producer.open on a path inside another log's directory (`<log>/orders`, `<log>/a/b`, an empty folder
 * there, or through a symlink to the log) used to start a second log there: a folder the outer log
 * does not use appeared in it (verify then warns of a foreign file), the rule retry.deadLetterDir and
 * repairLog's backupDir keep broken. It is ERR_INVALID_OPTION naming logDir, the outer log untouched.
 * A log already there opens as before; a directory beside the log is a log of its own.
 */
import * as assert from 'uvu/assert';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, verifyLog } from '../dist/index.js';
import { suite, digestDir, listing, logOf, rejectsWith, tempDir } from './kit.js';
import { namesOption } from './bad-input-kit.js';

const test = suite('producer-inside-log');

test('Producer.open inside a log directory: ERR_INVALID_OPTION naming logDir, the log untouched', async () => {
  const root = tempDir();
  const logDir = await logOf(5, { logDir: join(root, 'log') });
  mkdirSync(join(logDir, 'empty'));
  symlinkSync(logDir, join(root, 'link'));
  const before = [digestDir(logDir), ...listing(logDir)].join('\n');
  for (const inside of [join(logDir, 'orders'), join(logDir, 'a', 'b'), join(logDir, 'empty'), join(root, 'link', 'orders'), join(logDir, 'cursors', 'x')]) {
    namesOption(await rejectsWith(() => Producer.open({ logDir: inside }), 'ERR_INVALID_OPTION'), 'logDir', inside);
    assert.is([digestDir(logDir), ...listing(logDir)].join('\n'), before, `${inside}: the log directory is untouched`);
  }
  const r = await verifyLog(logDir);
  assert.equal(r.findings.filter((f) => f.kind !== 'foreign-file' || !f.file.includes('empty')).map((f) => f.message), [], 'nothing new for verify to find');
  // Beside the log: a log of its own.
  const beside = await Producer.open({ logDir: join(root, 'beside') });
  await beside.close();
});

test('a log already inside another log directory still opens', async () => {
  const root = tempDir();
  const inner = await logOf(3, { logDir: join(root, 'inner') });
  const outer = await logOf(3, { logDir: join(root, 'outer') });
  // Moved there by hand (or made before this rule): it holds a log, so it is opened as it is.
  const { renameSync } = await import('node:fs');
  renameSync(inner, join(outer, 'inner'));
  const p = await Producer.open({ logDir: join(outer, 'inner') });
  assert.is(p.nextOffset, 3);
  await p.close();
});

test.run();
