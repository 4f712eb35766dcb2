/**
 * verifyLog reports a segment whose valid header names a format newer than this code reads, instead of
 * rejecting: damage when a segment of a format it reads follows (versions never go down along a log),
 * else a finding that names a newer reactive-log as the remedy; either way the report is not ok, the
 * other segments are verified, `reactive-log verify` prints the report and exits 1, and nothing changes.
 */
import * as assert from 'uvu/assert';
import { closeSync, openSync, readSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { verifyLog } from '../dist/index.js';
import { digestDir, logOf, suite } from './kit.js';
import { cli } from './cli-kit.js';

const test = suite('verify-newer-format');

function segments(logDir: string): string[] {
  return readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
}

/** Rewrites a segment header's version, with a valid checksum. */
function setVersion(path: string, version: number): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(32);
  readSync(fd, b, 0, 32, 0);
  b.writeUInt16LE(version, 4);
  b.writeUInt32LE(crc32(b.subarray(0, 28)), 28);
  writeSync(fd, b, 0, 32, 0);
  closeSync(fd);
}

test('a middle segment of format 3 between segments of format 2: damage, the rest verified', async () => {
  const logDir = await logOf(100, { fileRollSize: 1024, flushAfter: (i: number) => i % 2 === 1 });
  const segs = segments(logDir);
  assert.ok(segs.length >= 3);
  setVersion(join(logDir, segs[1]!), 3);
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
  const segs = segments(logDir);
  setVersion(join(logDir, segs.at(-1)!), 3);
  const r = await verifyLog(logDir);
  assert.is(r.ok, false);
  const found = r.findings.filter((x) => x.file === segs.at(-1));
  assert.is(found.length, 1, JSON.stringify(r.findings));
  assert.match(found[0]!.message, /verify it with a newer reactive-log/);
  assert.is(r.segments.length, segs.length - 1);
});

test.run();
