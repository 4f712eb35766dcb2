/**
 * Files of a format newer than this code reads are refused with ERR_UNSUPPORTED_FORMAT (verifyLog
 * reports a segment of one, not ok), never misread and never changed: a segment whose valid header names version 3 (sealed, or the newest one with no
 * frame, which must not pass for a torn roll), and a cursor slot with flag bits this format does not
 * know (the older slot must not be read instead). New segments carry version 2, and a 0.1 log
 * continues in one: a roll before the first frame, or an empty version-1 newest segment rewritten
 * with a version-2 header.
 */
import * as assert from 'uvu/assert';
import { closeSync, cpSync, openSync, readFileSync, readSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, verifyLog } from '../dist/index.js';
import { suite, digestDir, rejectsWith, tempDir } from './kit.js';
import { setSegmentVersion } from './read-kit.js';

const test = suite('format-versions');

/** A closed log of `n` records on small segments, with a clientTx cursor 'c' committed at 3. */
async function smallLog(n: number): Promise<string> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024, syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < n; i++) {
    p.append(`record-${i}-${'x'.repeat(100)}`);
    if (i % 4 === 3) await p.flush(); // frames of a few records: several segments
  }
  await p.close();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
  await c.nonblockingProcess(3, () => 'commit');
  await c.close();
  return logDir;
}

function segments(logDir: string): string[] {
  return readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
}

function headerVersion(path: string): number {
  const fd = openSync(path, 'r');
  const b = Buffer.alloc(32);
  readSync(fd, b, 0, 32, 0);
  closeSync(fd);
  return b.readUInt16LE(4);
}

test('new segments carry format version 2', async () => {
  const logDir = await smallLog(30);
  const segs = segments(logDir);
  assert.ok(segs.length >= 3, `${segs.length} segments`);
  for (const s of segs) assert.is(headerVersion(join(logDir, s)), 2, s);
});

test('a sealed segment of version 3 is refused by producer and consumer, and reported by verify; nothing changes', async () => {
  const logDir = await smallLog(30);
  setSegmentVersion(join(logDir, segments(logDir)[0]!), 3);
  const before = digestDir(logDir);
  await rejectsWith(Producer.open({ logDir }), 'ERR_UNSUPPORTED_FORMAT');
  const err = await rejectsWith(async () => {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    try {
      for (const m of c.iter()) void m;
    } finally {
      await c.close();
    }
  }, 'ERR_UNSUPPORTED_FORMAT');
  assert.match(err.message, /format version 3/);
  const report = await verifyLog(logDir);
  assert.is(report.ok, false);
  assert.ok(report.findings.some((x) => x.kind === 'segment-header' && x.file === segments(logDir)[0] && /format version 3/.test(x.message)));
  assert.is(digestDir(logDir), before);
});

test('a newest segment of version 3 holding no frame is not taken for a torn roll and removed', async () => {
  const logDir = await smallLog(30);
  const segs = segments(logDir);
  const newest = join(logDir, segs[segs.length - 1]!);
  // Cut the newest segment back to its header: what a roll leaves before its first frame.
  const fd = openSync(newest, 'r+');
  const head = Buffer.alloc(32);
  readSync(fd, head, 0, 32, 0);
  closeSync(fd);
  writeFileSync(newest, head);
  setSegmentVersion(newest, 3);
  const before = digestDir(logDir);
  await rejectsWith(Producer.open({ logDir }), 'ERR_UNSUPPORTED_FORMAT');
  assert.is(digestDir(logDir), before);
  assert.equal(segments(logDir), segs);
});

test('a cursor slot with unknown flag bits is refused, not passed over for the older slot', async () => {
  const logDir = await smallLog(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') });
  await c.nonblockingProcess(2, () => 'commit'); // two more commits: both slots hold values
  await c.close();
  const path = join(logDir, 'cursors', 'client.c.cursor');
  const fd = openSync(path, 'r+');
  const slot = Buffer.alloc(32);
  // The newest slot: the one with the higher sequence.
  const b = Buffer.alloc(32);
  readSync(fd, slot, 0, 32, 0);
  const slotBytes = 32 + 64 * 1024;
  readSync(fd, b, 0, 32, slotBytes);
  const newestAt = Number(slot.readBigUInt64LE(8)) > Number(b.readBigUInt64LE(8)) ? 0 : slotBytes;
  const s = newestAt === 0 ? slot : b;
  s.writeUInt32LE(s.readUInt32LE(28) | 0x10, 28);
  const len = s.readUInt32LE(24);
  const body = Buffer.alloc(24 + len);
  readSync(fd, body, 0, 24 + len, newestAt + 8);
  s.copy(body, 0, 8, 32);
  s.writeUInt32LE(crc32(body), 4);
  writeSync(fd, s, 0, 32, newestAt);
  closeSync(fd);
  const before = digestDir(logDir);
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') }), 'ERR_UNSUPPORTED_FORMAT');
  assert.is(digestDir(logDir), before);
});

const FIXTURE = fileURLToPath(new URL('./fixtures/format-v1', import.meta.url));

function copyOfV1(): string {
  const dir = join(tempDir(), 'log');
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

async function readAll(logDir: string): Promise<Array<{ text: string; key: string | null }>> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const out = [...c.iter()].map((m) => ({ text: Buffer.from(m.data).toString(), key: m.key === null ? null : Buffer.from(m.key).toString() }));
  await c.close();
  return out;
}

test('a 0.1 log continues in a new segment of version 2; its version-1 segments keep their bytes', async () => {
  const logDir = copyOfV1();
  const v1 = segments(logDir);
  const before = new Map(v1.map((s) => [s, readFileSync(join(logDir, s))]));
  const p = await Producer.open({ logDir });
  assert.is(p.append('new', { key: 'k' }), 60);
  await p.close();
  for (const s of v1) assert.equal(readFileSync(join(logDir, s)), before.get(s), `${s} is unchanged`);
  const now = segments(logDir);
  assert.is(now.length, v1.length + 1, 'a roll before the first frame');
  assert.is(headerVersion(join(logDir, now.at(-1)!)), 2);
  const got = await readAll(logDir);
  assert.is(got.length, 61);
  assert.equal(got[60], { text: 'new', key: 'k' });
  assert.is(got[59]!.key, null);
});

test('an empty newest segment of version 1 gets a version-2 header in place, and takes the next records', async () => {
  const logDir = copyOfV1();
  // What a 0.1 roll leaves before its first frame: a whole version-1 header naming offset 60.
  const header = Buffer.alloc(32);
  header.writeUInt32LE(0x474f4c52, 0);
  header.writeUInt16LE(1, 4);
  header.writeUInt16LE(32, 6);
  header.writeBigUInt64LE(60n, 8);
  header.writeDoubleLE(1.8e12, 16);
  header.writeUInt32LE(crc32(header.subarray(0, 28)), 28);
  const name = `${String(60).padStart(20, '0')}.seg`;
  writeFileSync(join(logDir, name), header);
  const count = segments(logDir).length;
  const p = await Producer.open({ logDir });
  assert.is(p.append('first of 60', { key: 'k60' }), 60);
  await p.close();
  assert.is(segments(logDir).length, count, 'no roll: the empty segment takes the records');
  assert.is(headerVersion(join(logDir, name)), 2);
  const got = await readAll(logDir);
  assert.equal(got[60], { text: 'first of 60', key: 'k60' });
});

test.run();
