/**
 * The exit hook's bound on closing a producer nobody closed (10 s for the writer to drain and sync) is
 * elapsed time: a wall clock stepped during the drain (NTP, a VM resumed) neither ends it early (a
 * failure reported, exit code 1, while the writer was about to finish) nor stretches it (an exit held
 * past 10 s for as long as the writer takes). The fixture steps Date.now in the child right after the
 * hook's first read; the writer's last fdatasync is slowed by the fault layer.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Producer } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { FAULT_IO } from './faults.js';

const test = suite('exit clock step');
const CHILD = fileURLToPath(new URL('./fixtures/exit-clock-step.mjs', import.meta.url));
const HOUR = 3_600_000;

interface Run { readonly status: number | null; readonly stderr: string; readonly tookMs: number; readonly held: number }

/** Runs the fixture with the final fdatasync delayed `delayMs` and the clock stepped `stepMs` at exit. */
async function runChild(delayMs: number, stepMs: number): Promise<Run> {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const plan = { rules: [{ op: 'fdatasync', path: '\\.seg$', thread: 'writer', nth: 1, persistent: true, effect: { delayMs } }], arm };
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CHILD, logDir, arm, String(stepMs)], {
    encoding: 'utf8', timeout: 120_000,
    env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: FAULT_IO, REACTIVE_LOG_FAULTS: JSON.stringify(plan) },
  });
  const tookMs = Math.round(performance.now() - t0);
  console.log(`  step ${stepMs} ms, fdatasync ${delayMs} ms: status ${r.status}, ${tookMs} ms, stderr ${JSON.stringify(r.stderr.trim())}`);
  const q = await Producer.open({ logDir });
  const held = q.nextOffset;
  await q.close();
  return { status: r.status, stderr: r.stderr, tookMs, held };
}

test('a wall clock stepped forward an hour at exit: the hook still waits for the writer (1.5 s) and closes cleanly', async () => {
  const r = await runChild(1_500, HOUR);
  assert.is(r.stderr, '', 'nothing reported');
  assert.is(r.status, 0);
  assert.is(r.held, 100);
});

test('a wall clock stepped back an hour at exit: the hook gives up at its 10 s bound, not when the writer is done (30 s)', async () => {
  const r = await runChild(30_000, -HOUR);
  assert.is(r.status, 1);
  assert.match(r.stderr, 'did not finish');
  assert.ok(r.tookMs < 25_000, `the process left after ${r.tookMs} ms`);
});

test.run();
