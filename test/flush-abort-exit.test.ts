/**
 * An aborted flush({ signal }) lets go of the event loop at once: its wait for the fsync (up to a
 * 1 s slice) held a ref'd timer until the slice ran out, so a process with nothing else to do ran on
 * for up to a second after the flush rejected.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAULT_IO } from './faults.js';
import { suite, tempDir } from './kit.js';

const test = suite('flush-abort-exit');
const FIXTURE = fileURLToPath(new URL('./fixtures/flush-abort-exit.mjs', import.meta.url));

test('a flush aborted while the writer is in a slow fsync: the process ends promptly', () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const trace = join(tempDir(), 'trace');
  // The first segment fsync once armed takes 3 s: only the signal ends the flush before it.
  const plan = { rules: [{ op: 'fdatasync', path: '\\.seg$', thread: 'writer', nth: 1, effect: { delayMs: 3_000 } }], arm, trace };
  const env = { ...process.env, REACTIVE_LOG_TEST_FILE_IO: FAULT_IO, REACTIVE_LOG_FAULTS: JSON.stringify(plan) };
  const r = spawnSync(process.execPath, [FIXTURE, logDir], { encoding: 'utf8', env, timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { code: string; ranOnMs: number };
  assert.is(out.code, 'ERR_ABORTED');
  // The slice is 1 s; a process that waits for it runs on about that long.
  assert.ok(out.ranOnMs < 300, `the process ran on ${out.ranOnMs} ms after the flush rejected`);
});

test.run();
