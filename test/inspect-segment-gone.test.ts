/**
 * inspectLog beside retention: the oldest segment is deleted after inspectLog listed the directory
 * and before it read that segment's header. The answer lists only segments that are stored (no
 * segment of 0 bytes and 0 records for the one gone), and its logStartOffset is the first of them,
 * so nextOffset - logStartOffset is the sum of the segments' records, as in an answer made after.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { inspectLog } from '../dist/index.js';
import { CLI } from './cli-kit.js';
import { FAULT_IO, type FaultPlan } from './faults.js';
import { logOf, suite } from './kit.js';

const test = suite('inspect-segment-gone');

test('the oldest segment deleted between the listing and its header read: it is not listed, and the log starts after it', async () => {
  const texts = Array.from({ length: 600 }, (_, i) => `record-${i}-${'y'.repeat(i % 40)}`);
  const logDir = await logOf(texts, { fileRollSize: 4096, flushAfter: (i: number) => i % 9 === 8 });
  const segs = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
  assert.ok(segs.length >= 4, `${segs.length} segments`);
  const oldest = join(logDir, segs[0]!);
  const plan: FaultPlan = { rules: [{ op: 'open', path: `${segs[0]!.replace('.', '\\.')}$`, thread: 'main', nth: 1, effect: { unlinkFirst: [oldest, oldest.replace(/\.seg$/, '.idx')] } }] };
  const r = spawnSync(process.execPath, [CLI, 'info', logDir, '--json'], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: FAULT_IO, REACTIVE_LOG_FAULTS: JSON.stringify(plan) },
  });
  assert.is(r.status, 0, r.stderr);
  assert.equal(readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort(), segs.slice(1), 'the fault deleted the oldest segment');
  const raced = JSON.parse(r.stdout) as { logStartOffset: number; nextOffset: number; durableOffset: number; segments: Array<{ baseOffset: number; records: number; bytes: number }> };
  const after = await inspectLog(logDir);
  assert.equal(raced.segments.map((s) => s.baseOffset), after.segments.map((s) => s.baseOffset), 'the segments stored');
  assert.is(raced.logStartOffset, after.logStartOffset);
  assert.is(raced.nextOffset - raced.logStartOffset, raced.segments.reduce((n, s) => n + s.records, 0));
  assert.ok(raced.durableOffset >= raced.logStartOffset);
});

test.run();
