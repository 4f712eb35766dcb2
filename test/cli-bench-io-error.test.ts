/**
 * `reactive-log bench` on a directory where it cannot work (its folder cannot be made, a write
 * fails): exit code 1 and one line on stderr that ends with the error's code, as every exit-1
 * message does (ERR_IO; ERR_DISK_FULL for a full disk), naming the directory. It printed the raw
 * system message ("ENOENT: no such file or directory, mkdtemp ...") with no code.
 * The directory is /proc/1, where nobody, root included, can create a folder; without procfs the
 * test is skipped with a printed reason.
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli-bench-io-error');
test.after(killCliProcesses);

test('bench where its folder cannot be made: exit 1, one line ending with (ERR_IO)', () => {
  if (!existsSync('/proc/1/status')) return void console.log('skipped: no procfs to refuse a folder');
  const r = cli('bench', '/proc/1', '--seconds', '0.05');
  assert.is(r.status, 1, r.stderr);
  assert.is(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^reactive-log bench: .*\/proc\/1.* \(ERR_IO\)$/);
});

test.run();
