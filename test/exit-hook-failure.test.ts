/**
 * The exit hook closes a producer nobody closed. When that close fails (the writer failed, at the
 * hook's last fdatasync or earlier) or does not finish within the hook's 10 s bound, the records not
 * made durable are reported on stderr (the error's code, the log directory, the offsets) and the
 * process exits with code 1 (a non-zero code the process chose stays).
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Producer } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { FAULT_IO, type FaultEffect, type FaultOp } from './faults.js';

const test = suite('exit hook failure');
const CHILD = fileURLToPath(new URL('./fixtures/exit-unclosed-failure.mjs', import.meta.url));

interface Run { readonly logDir: string; readonly status: number | null; readonly stderr: string; readonly held: number }

/** Runs the fixture with `op` on the writer's segment files armed to `effect`; then reopens the log. */
async function runChild(mode: string, op: FaultOp, effect: FaultEffect): Promise<Run> {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const plan = { rules: [{ op, path: '\\.seg$', thread: 'writer', nth: 1, persistent: true, effect }], arm };
  const r = spawnSync(process.execPath, [CHILD, logDir, arm, mode], {
    encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: FAULT_IO, REACTIVE_LOG_FAULTS: JSON.stringify(plan) },
  });
  console.log(`  ${mode}: status ${r.status}, stdout ${JSON.stringify(r.stdout.trim())}, stderr ${JSON.stringify(r.stderr.trim())}`);
  const q = await Producer.open({ logDir });
  const held = q.nextOffset;
  await q.close();
  return { logDir, status: r.status, stderr: r.stderr, held };
}

test('the final fdatasync fails (EIO): stderr names ERR_IO, the log and the offsets not durable; exit code 1', async () => {
  const r = await runChild('final', 'fdatasync', { errno: 'EIO', dropUnsynced: true });
  assert.is(r.held, 50, 'the records after the last flush were lost with the failed fdatasync');
  assert.is(r.status, 1);
  assert.match(r.stderr, 'ERR_IO');
  assert.match(r.stderr, r.logDir);
  assert.match(r.stderr, 'offsets 50 to 99');
});

test('the final fdatasync outlasts the 10 s bound: stderr says so, with the offsets not known durable; exit code 1', async () => {
  const r = await runChild('final', 'fdatasync', { delayMs: 12_000 });
  assert.is(r.status, 1);
  assert.match(r.stderr, 'did not finish');
  assert.match(r.stderr, '10000 ms');
  assert.match(r.stderr, r.logDir);
  assert.match(r.stderr, 'offsets 50 to 99');
});

test('a writer that failed earlier, with nobody looking: stderr has its error and details; exit code 1', async () => {
  const r = await runChild('earlier', 'writev', { errno: 'ENOSPC' });
  assert.is(r.status, 1);
  assert.match(r.stderr, 'ERR_DISK_FULL');
  assert.match(r.stderr, 'ENOSPC'); // the writer's message arrived before the exit: its details are told
  assert.match(r.stderr, r.logDir);
  assert.match(r.stderr, 'offsets 50 to '); // sync policy never: nothing after the flush is durable
});

test('process.exit(3) after the writer failed: the failure is reported and the exit code stays 3', async () => {
  const r = await runChild('earlier-exit3', 'writev', { errno: 'ENOSPC' });
  assert.is(r.status, 3);
  assert.match(r.stderr, 'ERR_DISK_FULL');
  assert.match(r.stderr, 'exit code 3');
});

test('a clean close at exit: exit code 0, nothing on stderr', async () => {
  const r = await runChild('clean', 'fdatasync', { delayMs: 1 });
  assert.is(r.held, 100);
  assert.is(r.status, 0);
  assert.is(r.stderr, '');
});

test.run();
