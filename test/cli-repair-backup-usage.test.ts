/**
 * `repair --backup <path>` with a path no backup can go to (empty, a file, a path through a file, the
 * log directory or a folder in it) is bad usage: exit code 2, the reason and the usage line of
 * repair on stderr, nothing on stdout, and the damaged log left as it was. It exited with 1, as for
 * a repair that ran and failed.
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digestDir, suite, tempDir } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('cli-repair-backup-usage');
test.after(killCliProcesses);

test('repair --backup that no backup can use: exit 2 with the usage line, nothing changed', async () => {
  const { logDir, segs } = await logWithCursor();
  const last = join(logDir, segs[segs.length - 1]!);
  const b = readFileSync(last);
  b[40] ^= 0xff; // damage the newest segment's first frame: there is something to repair
  writeFileSync(last, b);
  const file = join(tempDir(), 'a-file');
  writeFileSync(file, 'x');
  const before = digestDir(logDir);
  for (const backup of ['', file, join(file, 'sub'), logDir, join(logDir, 'cursors')]) {
    for (const extra of [[], ['--dry-run']]) {
      const r = cli('repair', logDir, '--backup', backup, ...extra);
      const what = `--backup ${JSON.stringify(backup)} ${extra.join(' ')}`;
      assert.is(r.status, 2, `${what}: ${r.stderr}`);
      assert.is(r.stdout, '', what);
      assert.match(r.stderr, /\(ERR_INVALID_OPTION\)\nUsage: reactive-log repair <dir>/, what);
      assert.is(digestDir(logDir), before, what);
    }
  }
  // A usable backup directory still repairs.
  const ok = cli('repair', logDir, '--backup', join(tempDir(), 'bk'));
  assert.is(ok.status, 0, ok.stderr);
});

test.run();
