/**
 * A log written by reactive-log 0.1 (segment format version 1), checked in under
 * test/fixtures/format-v1/: two segments with their indexes, `durable.offset`, and a clientTx cursor
 * 'billing' committed at offset 25 with the state 'state-25'. The 60 records are
 * `v1-record-<i>-` followed by `i % 7` times 'x'. The fixture was made by 0.1 with
 * `fileRollSize: 1024`, `indexIntervalBytes: 512` and `SyncPolicy.always()`, and closed cleanly.
 *
 * Every test works on a copy: today's code must read, verify, continue and append to the bytes an
 * earlier version wrote, and a change made alike to writer and reader cannot hide a format break.
 */
import * as assert from 'uvu/assert';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Producer, Consumer, ConsumerStyle, Whence, verifyLog } from '../dist/index.js';
import { suite, tempDir, digestDir } from './kit.js';

const test = suite('format-v1');
const FIXTURE = fileURLToPath(new URL('./fixtures/format-v1', import.meta.url));
const RECORDS = 60;
const expected = (i: number): string => `v1-record-${i}-${'x'.repeat(i % 7)}`;

function copyOfFixture(): string {
  const dir = join(tempDir(), 'log');
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

test('a 0.1 log reads back whole, in order, with non-decreasing timestamps', async () => {
  const before = digestDir(FIXTURE);
  const logDir = copyOfFixture();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const got: string[] = [];
  let lastTs = 0;
  for (const m of c.iter()) {
    assert.is(m.offset, got.length);
    assert.ok(m.timestamp >= lastTs && m.timestamp > 1.7e12, `timestamp ${m.timestamp} at ${m.offset}`);
    lastTs = m.timestamp;
    got.push(Buffer.from(m.data).toString());
  }
  await c.close();
  assert.equal(got, Array.from({ length: RECORDS }, (_, i) => expected(i)));
  assert.is(digestDir(FIXTURE), before, 'the checked-in fixture itself is never touched');
});

test('a 0.1 log verifies clean, and a seek by offset lands through its index', async () => {
  const logDir = copyOfFixture();
  const report = await verifyLog(logDir);
  assert.is(report.ok, true, JSON.stringify(report.findings));
  assert.is(report.records, RECORDS);
  assert.is(report.segments.length, 2);
  for (const at of [0, 39, 40, 59]) {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(at)) });
    assert.is(Buffer.from(c.iter().next().value!.data).toString(), expected(at));
    await c.close();
  }
});

test('a 0.1 cursor resumes after its last commit with its state', async () => {
  const logDir = copyOfFixture();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  assert.is(c.committedOffset, 25);
  assert.is(Buffer.from(c.state ?? []).toString(), 'state-25');
  const summary = await c.nonblockingProcess(null, (m) => (Buffer.from(m.data).toString() === expected(m.offset) ? 'commit' : 'break'));
  assert.equal(summary, { committed: RECORDS - 25, skipped: 0, retried: 0, stoppedBy: 'end' });
  await c.close();
});

test('a producer continues a 0.1 log at its end, and the whole log reads back', async () => {
  const logDir = copyOfFixture();
  const p = await Producer.open({ logDir });
  assert.is(p.nextOffset, RECORDS);
  assert.equal(p.recovery, { truncated: null, removed: [] });
  assert.is(p.append('after-0.1'), RECORDS);
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(RECORDS - 1)) });
  assert.equal([...c.iter()].map((m) => Buffer.from(m.data).toString()), [expected(RECORDS - 1), 'after-0.1']);
  await c.close();
  assert.is((await verifyLog(logDir)).ok, true);
});

test.run();
