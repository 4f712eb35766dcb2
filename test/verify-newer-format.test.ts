/**
 * verifyLog reports a segment whose valid header names a format newer than this code reads, instead of
 * rejecting: damage when a segment of a format it reads follows (versions never go down along a log),
 * else a finding that names a newer reactive-log as the remedy; either way the report is not ok, the
 * other segments are verified, `reactive-log verify` prints the report and exits 1, and nothing changes.
 * A cursor file whose slot names a newer format (flag bits this format does not know) is reported the
 * same way, and the other cursors and the segments are verified.
 */
import * as assert from 'uvu/assert';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Consumer, ConsumerStyle, verifyLog } from '../dist/index.js';
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

/** Sets flag `bit` in the newest slot of the cursor file at `path` and seals the slot's CRC again: what a newer format writes. */
function setCursorFlag(path: string, bit: number): void {
  const slotBytes = 32 + 64 * 1024;
  const fd = openSync(path, 'r+');
  try {
    const heads = [0, slotBytes].map((at) => {
      const h = Buffer.alloc(32);
      readSync(fd, h, 0, 32, at);
      return { at, h, seq: h.readUInt32LE(0) === 0x52554352 ? Number(h.readBigUInt64LE(8)) : -1 };
    });
    const { at, h } = heads[0]!.seq > heads[1]!.seq ? heads[0]! : heads[1]!;
    h.writeUInt32LE(h.readUInt32LE(28) | bit, 28);
    const body = Buffer.alloc(24 + h.readUInt32LE(24));
    readSync(fd, body, 0, body.byteLength, at + 8);
    h.copy(body, 0, 8, 32);
    h.writeUInt32LE(crc32(body), 4);
    writeSync(fd, h, 0, 32, at);
  } finally {
    closeSync(fd);
  }
}

test('a cursor file of a newer format: a finding naming a newer reactive-log, the rest verified; CLI prints it, exits 1', async () => {
  const logDir = await logOf(100, { fileRollSize: 1024, flushAfter: (i: number) => i % 2 === 1 });
  for (const [id, n] of [['newer', 10], ['known', 20]] as const) {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) });
    await c.nonblockingProcess(n, () => 'commit');
    await c.close();
  }
  setCursorFlag(join(logDir, 'cursors', 'client.newer.cursor'), 0x10);
  const before = digestDir(logDir);
  const r = await verifyLog(logDir);
  assert.is(r.ok, false);
  const found = r.findings.filter((x) => x.file === 'cursors/client.newer.cursor');
  assert.is(found.length, 1, JSON.stringify(r.findings));
  assert.is(found[0]!.kind, 'cursor');
  assert.match(found[0]!.message, /verify it with a newer reactive-log/);
  assert.is(r.damageCount, 1, JSON.stringify(r.findings));
  assert.equal(r.cursors.map((c) => [c.name, c.offset]), [['client.known', 20]]);
  assert.is(r.segments.length, segmentFiles(logDir).length);
  assert.is(r.logEndOffset, 100);
  const v = cli('verify', logDir);
  assert.is(v.status, 1, v.stderr);
  assert.match(v.stdout, /client\.newer\.cursor/);
  assert.match(v.stdout, /verify it with a newer reactive-log/);
  assert.is(digestDir(logDir), before);
});

test.run();
