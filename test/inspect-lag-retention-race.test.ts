/**
 * inspectLog beside retention: the segment holding a cursor's committed offset (the oldest one, for a
 * consumer that fell behind) is deleted after inspectLog listed the directory and before it walks to
 * the cursor's frame. The lag's bytes and ms then count from the oldest frame still stored, as for a
 * cursor retention passed; never 0 bytes and 0 ms for a cursor hundreds of records behind.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, inspectLog } from '../dist/index.js';
import { CLI } from './cli-kit.js';
import { FAULT_IO, type FaultPlan } from './faults.js';
import { logOf, suite } from './kit.js';

const test = suite('inspect-lag-retention-race');

test('the oldest segment deleted between the listing and the lag walk: the lag counts from the oldest frame left', async () => {
  const texts = Array.from({ length: 600 }, (_, i) => `record-${i}-${'y'.repeat(i % 40)}`);
  const logDir = await logOf(texts, { fileRollSize: 4096, indexIntervalBytes: 512, flushAfter: (i: number) => i % 9 === 8 });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('slow') }); // committed at 0
  await c.close();
  const segs = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
  assert.ok(segs.length >= 4, `${segs.length} segments`);
  const oldest = join(logDir, segs[0]!);
  // The first open of the oldest segment is inspectLog's listing of segment sizes; the second its walk
  // to the cursor's frame: retention deletes the segment (and its index) just before that one.
  const plan: FaultPlan = { rules: [{ op: 'open', path: `${segs[0]!.replace('.', '\\.')}$`, thread: 'main', nth: 2, effect: { unlinkFirst: [oldest, oldest.replace(/\.seg$/, '.idx')] } }] };
  const r = spawnSync(process.execPath, [CLI, 'cursor', 'list', logDir, '--json'], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: FAULT_IO, REACTIVE_LOG_FAULTS: JSON.stringify(plan) },
  });
  assert.is(r.status, 0, r.stderr);
  assert.equal(readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort(), segs.slice(1), 'the fault deleted the oldest segment');
  const [raced] = JSON.parse(r.stdout) as Array<{ committedOffset: number; lag: { records: number; bytes: number; ms: number } }>;
  // What inspectLog says of the same cursor once the segment is gone: retention passed it.
  const after = (await inspectLog(logDir)).cursors[0]!;
  assert.is(raced!.committedOffset, 0);
  assert.ok(raced!.lag.records >= after.lag.records && after.lag.records > 0, `records ${raced!.lag.records}`);
  assert.is(raced!.lag.bytes, after.lag.bytes, 'bytes from the oldest frame still stored');
  assert.is(raced!.lag.ms, after.lag.ms, 'ms from the oldest frame still stored');
});

test.run();
