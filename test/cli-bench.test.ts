/**
 * `reactive-log bench <dir>`: every sync policy measured on the disk under a directory, beside that
 * disk's limits, in a temporary folder it removes: the directory is byte-identical afterwards, the
 * JSON report names the four policies with positive figures, and the text report prints them.
 */
import * as assert from 'uvu/assert';
import { digestDir, suite, tempDir } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli-bench');
test.after(killCliProcesses);

test('bench --json: four policies with figures, the disk limits, nothing left in the directory', () => {
  const dir = tempDir();
  const before = digestDir(dir);
  const r = cli('bench', dir, '--seconds', '0.1', '--size', '64', '--json');
  assert.is(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { recordBytes: number; disk: Record<string, number>; policies: Array<Record<string, number | string>> };
  assert.is(report.recordBytes, 64);
  assert.equal(report.policies.map((p) => p.policy), ['always', 'periodic(100)', 'everyBytes(1 MiB)', 'never']);
  for (const p of report.policies) {
    for (const k of ['appendsPerSec', 'xBuffered', 'flushP50Us', 'xFsync']) assert.ok(typeof p[k] === 'number' && (p[k] as number) > 0, `${String(p.policy)} ${k} = ${String(p[k])}`);
  }
  for (const k of ['fsyncsPerSec', 'fsyncP50Us', 'bufferedBytesPerSec']) assert.ok(report.disk[k]! > 0, `disk ${k}`);
  assert.is(digestDir(dir), before, 'the directory is as it was');
});

test('bench prints a table of the policies', () => {
  const r = cli('bench', tempDir(), '--seconds', '0.05');
  assert.is(r.status, 0, r.stderr);
  for (const p of ['always', 'periodic(100)', 'everyBytes(1 MiB)', 'never', 'write + fdatasync']) assert.ok(r.stdout.includes(p), `${p} in\n${r.stdout}`);
});

test.run();
