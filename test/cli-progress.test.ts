/**
 * Progress on long commands: verify, repair and dump to a pipe report their progress on stderr when
 * it is a terminal, or with REACTIVE_LOG_PROGRESS=1 (a line per redraw, as here); stdout is the same
 * with and without it. Without either, nothing is printed on stderr.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logOf, suite, tempDir } from './kit.js';
import { CLI, killCliProcesses } from './cli-kit.js';

const test = suite('cli-progress');
test.after(killCliProcesses);

function run(progress: boolean, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  if (progress) env.REACTIVE_LOG_PROGRESS = '1';
  else delete env.REACTIVE_LOG_PROGRESS;
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('verify and dump: progress on stderr with REACTIVE_LOG_PROGRESS=1, the same stdout, nothing without it', async () => {
  const logDir = await logOf(300, { fileRollSize: 2048, flushAfter: (i: number) => i % 7 === 6 });
  const segments = readdirSync(logDir).filter((f) => f.endsWith('.seg')).length;
  for (const args of [['verify', logDir], ['dump', logDir]]) {
    const plain = run(false, ...args);
    const shown = run(true, ...args);
    assert.is(plain.status, 0, plain.stderr);
    assert.is(shown.status, 0, shown.stderr);
    assert.is(shown.stdout, plain.stdout, `${args[0]}: stdout unchanged`);
    assert.is(plain.stderr, '', `${args[0]}: no progress without a terminal`);
    const last = shown.stderr.trim().split('\n').at(-1)!;
    if (args[0] === 'verify') assert.match(last, `verify [${'#'.repeat(30)}] ${segments}/${segments} segments`);
    else assert.match(last, 'dump 300 records');
  }
});

test('repair: the backup copy and the verify after it show progress', async () => {
  const logDir = await logOf(300, { fileRollSize: 2048, flushAfter: (i: number) => i % 7 === 6 });
  const segs = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
  const bytes = readFileSync(join(logDir, segs[1]!));
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(join(logDir, segs[1]!), bytes);
  const r = run(true, 'repair', logDir, '--backup', join(tempDir(), 'b'));
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /repair: backup \[#+\] [\d,]+\/[\d,]+ bytes/);
  assert.match(r.stderr, /repair: verify \[#+\] (\d+)\/\1 segments/);
  assert.match(r.stdout, `first damage: ${segs[1]}`);
});

test.run();
