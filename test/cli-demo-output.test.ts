/**
 * `demo` keeps its streams apart: the summary on stdout, progress and what went wrong on stderr. A
 * `--dir` that is no log directory (a file, or a directory that is not empty and holds none of a
 * log's files) is a usage error (exit code 2, the usage line on stderr, nothing on stdout, nothing
 * written there), and a stdout that cannot be written (ENOSPC) ends with exit code 1 and one message.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, tempDir } from './kit.js';
import { CLI, cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli demo output');
test.after(killCliProcesses);

test('the summary on stdout; progress and the log directory line on stderr', () => {
  const dir = join(tempDir(), 'log');
  const r = cli('demo', '--dir', dir, '--records', '2000');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^appended +2,000 records this run/m);
  assert.match(r.stdout, /^OK: every record appended/m);
  assert.not.match(r.stdout, /log directory|new log|\| durable offset/, r.stdout);
  assert.match(r.stderr, /^log directory /m);
  assert.match(r.stderr, /^appended 2,000 \(100\.0%\) \| written offset/m);
});

test('--dir naming a file: exit 2, the reason and the usage line on stderr, nothing on stdout', () => {
  const file = join(tempDir(), 'file');
  writeFileSync(file, 'not a log');
  const r = cli('demo', '--dir', file, '--records', '10');
  assert.is(r.status, 2, r.stderr);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^reactive-log demo: .*ERR_INVALID_OPTION/m);
  assert.match(r.stderr, /^Usage: reactive-log demo/m);
});

test('--dir naming a directory that holds no log (not empty): exit 2, the reason and the usage line on stderr, nothing written there', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  const r = cli('demo', '--dir', dir, '--records', '10');
  assert.is(r.status, 2, r.stderr);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^reactive-log demo: .*not a log directory.*\(ERR_INVALID_OPTION\)$/m);
  assert.match(r.stderr, /^Usage: reactive-log demo/m);
  assert.equal(readdirSync(dir), ['notes.txt']);
});

test('stdout on a full disk: exit 1, the failure said once', () => {
  const full = openSync('/dev/full', 'w');
  try {
    const r = spawnSync(process.execPath, [CLI, 'demo', '--dir', join(tempDir(), 'log'), '--records', '1000'], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 1, r.stderr);
    assert.is(r.stderr.split('writing to stdout failed').length - 1, 1, r.stderr);
  } finally {
    closeSync(full);
  }
});

test.run();
