/**
 * verifyLog reports a segment whose valid header names a format newer than this code reads, instead of
 * rejecting: damage when a segment of a format it reads follows (versions never go down along a log),
 * else a finding that names a newer reactive-log as the remedy; either way the report is not ok, the
 * other segments are verified, `reactive-log verify` prints the report and exits 1, and nothing changes.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { verifyLog } from '../dist/index.js';
import { digestDir, logOf, suite } from './kit.js';
import { segmentFiles, setSegmentVersion } from './read-kit.js';
import { cli } from './cli-kit.js';

const test = suite('verify-newer-format');

test('a middle segment of format 3 between segments of format 2: damage, the rest verified', async () => {
  const logDir = await logOf(100, { fileRollSize: 1024, flushAfter: (i: number) => i % 2 === 1 });
  const segs = segmentFiles(logDir);
  assert.ok(segs.length >= 3);
  setSegmentVersion(join(logDir, segs[1]!), 3);
  const before = digestDir(logDir);
  const r = await verifyLog(logDir);
  assert.is(r.ok, false);
  const found = r.findings.filter((x) => x.file === segs[1]);
  assert.is(found.length, 1, JSON.stringify(r.findings));
  assert.is(found[0]!.severity, 'damage');
  assert.is(found[0]!.kind, 'segment-header');
  assert.match(found[0]!.message, /format version 3/);
  assert.match(found[0]!.message, /versions never go down/);
  assert.equal(r.segments.map((s) => s.file), segs.filter((s) => s !== segs[1]));
  assert.is(r.segments.at(-1)!.endOffset, 100);
  const v = cli('verify', logDir);
  assert.is(v.status, 1, v.stderr);
  assert.match(v.stdout, /versions never go down/);
  assert.is(digestDir(logDir), before);
});

test('the newest segment of format 3: not ok, a newer reactive-log named', async () => {
  const logDir = await logOf(100, { fileRollSize: 1024, flushAfter: (i: number) => i % 2 === 1 });
  const segs = segmentFiles(logDir);
  setSegmentVersion(join(logDir, segs.at(-1)!), 3);
  const r = await verifyLog(logDir);
  assert.is(r.ok, false);
  const found = r.findings.filter((x) => x.file === segs.at(-1));
  assert.is(found.length, 1, JSON.stringify(r.findings));
  assert.match(found[0]!.message, /verify it with a newer reactive-log/);
  assert.is(r.segments.length, segs.length - 1);
});

test.run();
