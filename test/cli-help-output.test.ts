/**
 * `--help`, `--version` and `<command> --help` write through the same path as the commands' data: a
 * write to stdout that fails (ENOSPC, `> /dev/full`) ends with exit code 1 and one message on stderr,
 * and a readable stdout gets the text with exit code 0.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { suite } from './kit.js';
import { CLI, cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli help output');
test.after(killCliProcesses);

const HELPS = [['--help'], ['--version'], ['tail', '-h'], ['cursor', '--help'], ['cursor', 'reset', '--help']];

test('help and version to a full disk: exit 1, one message on stderr', () => {
  const full = openSync('/dev/full', 'w');
  try {
    for (const args of HELPS) {
      const r = spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 60_000 });
      assert.is(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^reactive-log: writing to stdout failed: ENOSPC\n$/, `${args.join(' ')}: ${r.stderr}`);
    }
  } finally {
    closeSync(full);
  }
});

test('help and version to a pipe: exit 0, the text on stdout', () => {
  for (const args of [['--help'], ['cursor', 'reset', '--help']]) {
    const r = cli(...args);
    assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stdout.length > 0 && r.stderr === '', `${args.join(' ')}: ${r.stdout} / ${r.stderr}`);
  }
});

test.run();
