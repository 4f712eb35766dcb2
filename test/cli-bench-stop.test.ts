/**
 * `bench` stopped by Ctrl-C (SIGINT: exit code 130) or SIGTERM (exit code 143), while it probes the
 * disk or measures a policy, removes its temporary folder: the directory is byte-identical afterwards
 * and no figures are printed.
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { digestDir, suite, tempDir, waitFor } from './kit.js';
import { CliProcess, killCliProcesses } from './cli-kit.js';

const test = suite('cli bench stop');
test.after(killCliProcesses);

const workOf = (dir: string): string | undefined => readdirSync(dir).find((n) => n.startsWith('reactive-log-bench-'));

test('SIGINT while probing the disk: exit 130, the folder removed', async () => {
  const dir = tempDir();
  const before = digestDir(dir);
  const child = new CliProcess(['bench', dir, '--seconds', '30']);
  await waitFor(() => { const w = workOf(dir); return w !== undefined && existsSync(join(dir, w, 'probe-fsync')); }, 'the disk probe to start');
  child.proc.kill('SIGINT');
  await waitFor(() => child.exit !== null, 'bench to exit on SIGINT', 5_000);
  assert.equal(child.exit, { code: 130, signal: null }, child.stderr);
  assert.is(child.stdout, '');
  assert.is(digestDir(dir), before, 'the directory is as it was');
  assert.equal(readdirSync(dir), []);
});

test('SIGTERM while measuring a policy: exit 143, the folder removed', async () => {
  const dir = tempDir();
  const before = digestDir(dir);
  const child = new CliProcess(['bench', dir, '--seconds', '0.5']);
  await waitFor(() => { const w = workOf(dir); return w !== undefined && readdirSync(join(dir, w)).some((n) => !n.startsWith('probe-')); }, 'a policy measurement to start');
  child.proc.kill('SIGTERM');
  await waitFor(() => child.exit !== null, 'bench to exit on SIGTERM', 5_000);
  assert.equal(child.exit, { code: 143, signal: null }, child.stderr);
  assert.is(child.stdout, '');
  assert.is(digestDir(dir), before, 'the directory is as it was');
  assert.equal(readdirSync(dir), []);
});

test.run();
