/**
 * The exit hook's close of a producer nobody closed, when the writer thread dies during that close
 * where none of its code runs (an abort, out of memory): no message and no failure in shared memory
 * come from it, and the thread's exit event is never delivered while the process exits. The hook
 * must see the thread gone within about a second and report ERR_WRITER_FAILED, not hold the exit for
 * its whole 10 s bound and then report a drain that merely did not finish in time.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Producer } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { FAULT_IO } from './faults.js';

const test = suite('exit-writer-died');
const CHILD = fileURLToPath(new URL('./fixtures/exit-unclosed-failure.mjs', import.meta.url));

test('the writer thread dies in the exit hook\'s final fdatasync: ERR_WRITER_FAILED on stderr within seconds, exit code 1', async () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const plan = { rules: [{ op: 'fdatasync', path: '\\.seg$', thread: 'writer', nth: 1, effect: { exitThread: true } }], arm };
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CHILD, logDir, arm, 'final'], {
    encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: FAULT_IO, REACTIVE_LOG_FAULTS: JSON.stringify(plan) },
  });
  const ms = performance.now() - t0;
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, 'ERR_WRITER_FAILED');
  assert.not.match(r.stderr, 'did not finish');
  assert.match(r.stderr, 'offsets 50 to 99');
  assert.ok(ms < 8000, `the exit took ${Math.round(ms)} ms: the hook waited out its bound for a writer that was gone`);
  // The log reopens to a valid prefix holding at least the flushed records.
  const q = await Producer.open({ logDir });
  assert.ok(q.nextOffset >= 50 && q.nextOffset <= 100, String(q.nextOffset));
  await q.close();
});

test.run();
