/**
 * An aborted flush({ signal }) lets go of the event loop at once: its wait for the fsync (up to a
 * 1 s slice) held a ref'd timer until the slice ran out, so a process with nothing else to do ran on
 * for up to a second after the flush rejected. The fixture looks at the cause: a wake-up of the slot
 * right after the abort finds no wait left asleep on it.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAULT_IO } from './faults.js';
import { suite, tempDir } from './kit.js';

const test = suite('flush-abort-exit');
const FIXTURE = fileURLToPath(new URL('./fixtures/flush-abort-exit.mjs', import.meta.url));

test('a flush aborted while the writer is in a slow fsync: the abort ends its wait, which holds the process no longer', () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const trace = join(tempDir(), 'trace');
  // The first segment fsync once armed takes 3 s: only the signal ends the flush before it.
  const plan = { rules: [{ op: 'fdatasync', path: '\\.seg$', thread: 'writer', nth: 1, effect: { delayMs: 3_000 } }], arm, trace };
  const env = { ...process.env, REACTIVE_LOG_TEST_FILE_IO: FAULT_IO, REACTIVE_LOG_FAULTS: JSON.stringify(plan) };
  const r = spawnSync(process.execPath, [FIXTURE, logDir], { encoding: 'utf8', env, timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { code: string; stillAsleep: number };
  assert.is(out.code, 'ERR_ABORTED');
  // A wait the abort did not end holds its ref'd timer to the end of its 1 s slice, and the process with it.
  assert.is(out.stillAsleep, 0, 'the abort ended the flush\'s wait on DURABLE_SEQ: a wake-up right after it found no wait asleep');
});

test.run();
