/**
 * The exit hook closes every producer nobody closed within one bound of 10 s in all: it asks every
 * writer to close before it waits for any, so that they drain and sync side by side. It used to close
 * them one after the other, each with 10 s of its own: two producers on a slow disk held the exit
 * for 20 s, and the second writer was not even asked to sync until the first was done.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite, tempDir } from './kit.js';
import { FAULT_IO } from './faults.js';

const test = suite('exit several producers');
const CHILD = fileURLToPath(new URL('./fixtures/exit-unclosed-several.mjs', import.meta.url));
/** The hook's bound (EXIT_DRAIN_MS), and what a loaded machine may add to it. */
const BOUND_MS = 10_000;
const SLACK_MS = 3_000;

function runChild(delayMs: number): { logDirs: string[]; status: number | null; stderr: string; hookMs: number } {
  const logDirs = [join(tempDir(), 'a'), join(tempDir(), 'b')];
  const arm = join(tempDir(), 'arm');
  const plan = { rules: [{ op: 'fdatasync', path: '\\.seg$', thread: 'writer', nth: 1, persistent: true, effect: { delayMs } }], arm };
  const r = spawnSync(process.execPath, [CHILD, arm, ...logDirs], {
    encoding: 'utf8', timeout: 90_000,
    env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: FAULT_IO, REACTIVE_LOG_FAULTS: JSON.stringify(plan) },
  });
  console.log(`  delay ${delayMs} ms: status ${r.status}, stdout ${JSON.stringify(r.stdout.trim())}, stderr ${JSON.stringify(r.stderr.trim())}`);
  const m = /hook (\d+)/.exec(r.stdout);
  assert.ok(m !== null, `the child printed no hook time: ${r.stdout} ${r.stderr}`);
  return { logDirs, status: r.status, stderr: r.stderr, hookMs: Number(m[1]) };
}

test('two producers whose last fdatasync outlasts the bound: the hook waits 10 s in all, and reports both', () => {
  const r = runChild(12_000);
  assert.ok(r.hookMs < BOUND_MS + SLACK_MS, `the exit hook took ${r.hookMs} ms for two producers, past its ${BOUND_MS} ms bound`);
  assert.is(r.status, 1);
  for (const dir of r.logDirs) assert.match(r.stderr, dir);
  assert.is(r.stderr.match(/did not finish/g)?.length, 2);
});

test('two producers whose last fdatasync takes 6 s each: they sync side by side, both durable, exit code 0', () => {
  const r = runChild(6_000);
  assert.ok(r.hookMs < 6_000 + SLACK_MS, `the exit hook took ${r.hookMs} ms: the writers synced one after the other`);
  assert.is(r.status, 0);
  assert.is(r.stderr, '');
});

test.run();
