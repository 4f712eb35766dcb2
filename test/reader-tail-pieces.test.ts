/**
 * A reader without a limit (another process tailing the files) at the end of a segment being written:
 * the segment grows in pieces of any size (a frame header or a frame larger than the tail read cut
 * anywhere), and now and then a torn tail appears that recovery cuts again, and a read fails with EIO
 * (ERR_IO, and the next read goes on). Every record comes once, in order, with its bytes, key and
 * headers. Segments that roll while the reader is at the tail are read through; bytes after the last
 * frame of a sealed segment are ERR_LOG_CORRUPT. (src/reader/segment-file.ts, readAtTail.)
 */
import * as assert from 'uvu/assert';
import { closeSync, openSync, readFileSync, readdirSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { LogReader } from '../src/reader/log-reader.js';
import { nodeFileIO } from '../src/storage/file-io.js';
import { SEGMENT_HEADER_BYTES } from '../src/format/frame.js';
import { prng, suite, tempDir } from './kit.js';

const test = suite('reader-tail-pieces');

/** Counts the reader's reads at the tail (one pread of TAIL_READ_BYTES), to show the path is taken. */
let tailReads = 0;
/** Tail reads left before one fails with EIO (-1: none). */
let eioIn = -1;
let eios = 0;
const io = { ...nodeFileIO, read: (fd: number, buf: Uint8Array, off: number, len: number, pos: number) => {
  if (len === 4000) {
    tailReads++;
    if (eioIn >= 0 && eioIn-- === 0) {
      eios++;
      throw Object.assign(new Error('injected'), { code: 'EIO' });
    }
  }
  return nodeFileIO.read(fd, buf, off, len, pos);
} };

const seed = Number(process.env.SEED ?? Date.now() % 1e9);
console.log(`reader-tail-pieces seed ${seed} (SEED=${seed} replays)`);
const rnd = prng(seed);
const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

test('a live segment growing in pieces, torn tails cut: every record once, whole', async () => {
  const src = tempDir();
  const n = 300;
  const sizes = Array.from({ length: n }, () => (rnd() < 0.1 ? int(3000, 9000) : int(1, 400)));
  const data = sizes.map((s, i) => Buffer.alloc(s, String.fromCharCode(97 + (i % 26))));
  const attrs = (i: number) => (i % 3 === 1 ? (i % 6 === 1 ? { key: `k${i}`, headers: { o: String(i) } } : { key: `k${i}` }) : undefined);
  const p = await Producer.open({ logDir: src, syncPolicy: SyncPolicy.never(), fileRollSize: 64 * 1024 * 1024 });
  for (let i = 0; i < n;) {
    const k = Math.min(n - i, int(1, 8));
    for (let j = 0; j < k; j++, i++) p.append(data[i]!, attrs(i));
    await p.flush();
  }
  await p.close();
  const seg = readdirSync(src).find((f) => f.endsWith('.seg'))!;
  const bytes = readFileSync(join(src, seg));
  for (let round = 0; round < 5; round++) {
    const dir = tempDir();
    const path = join(dir, seg);
    const fd = openSync(path, 'w');
    writeSync(fd, bytes, 0, SEGMENT_HEADER_BYTES, 0);
    let size = SEGMENT_HEADER_BYTES;
    const reader = new LogReader(io, dir);
    const got: number[] = [];
    const drain = () => {
      for (;;) {
        if (eioIn < 0 && rnd() < 0.05) eioIn = int(0, 3);
        let m;
        try {
          m = reader.read(Infinity, false);
        } catch (e) {
          assert.is((e as { code?: string }).code, 'ERR_IO', String(e));
          continue;
        }
        if (m === null) return;
        const i = m.offset;
        assert.ok(Buffer.from(m.data).equals(data[i]!), `record ${i} bytes`);
        const a = attrs(i);
        assert.is(m.key === null ? null : Buffer.from(m.key).toString(), a?.key ?? null, `record ${i} key`);
        assert.equal(m.headers === null ? null : { ...m.headers }, a?.headers ?? null, `record ${i} headers`);
        got.push(i);
      }
    };
    try {
      reader.seek(0);
      drain();
      while (size < bytes.length) {
        if (rnd() < 0.1) {
          // A torn tail: a piece of the next bytes, or junk, then cut back (recovery).
          const torn = rnd() < 0.5 ? bytes.subarray(size, Math.min(bytes.length, size + int(1, 5000))) : Buffer.alloc(int(1, 100), int(0, 255));
          writeSync(fd, torn, 0, torn.length, size);
          drain();
          ftruncateSync(fd, size);
          drain();
          continue;
        }
        const step = Math.min(bytes.length - size, rnd() < 0.5 ? int(1, 64) : int(1, 6000));
        writeSync(fd, bytes, size, step, size);
        size += step;
        drain();
      }
      drain();
    } finally {
      reader.close();
      closeSync(fd);
    }
    assert.equal(got, Array.from({ length: n }, (_, i) => i), `round ${round}: every record once`);
  }
  assert.ok(tailReads > 0 && eios > 0, `${tailReads} tail reads, ${eios} of them failed`);
});

test('segments rolled while the reader is at the tail; junk after the last frame of a sealed one is damage', async () => {
  eioIn = -1;
  const src = tempDir();
  const n = 300;
  const sizes = Array.from({ length: n }, () => (rnd() < 0.1 ? int(3000, 9000) : int(1, 400)));
  const data = sizes.map((s, i) => Buffer.alloc(s, String.fromCharCode(97 + (i % 26))));
  const p = await Producer.open({ logDir: src, syncPolicy: SyncPolicy.never(), fileRollSize: 16 * 1024, maxTotalBytes: null });
  for (let i = 0; i < n;) {
    const k = Math.min(n - i, int(1, 8));
    for (let j = 0; j < k; j++, i++) p.append(data[i]!);
    await p.flush();
  }
  await p.close();
  const segs = readdirSync(src).filter((f) => f.endsWith('.seg')).sort();
  assert.ok(segs.length > 3, `${segs.length} segments`);
  for (const junk of [false, true]) {
    const dir = tempDir();
    const reader = new LogReader(io, dir);
    const got: number[] = [];
    let error: unknown = null;
    const drain = () => {
      for (;;) {
        const m = reader.read(Infinity, false);
        if (m === null) return;
        assert.ok(Buffer.from(m.data).equals(data[m.offset]!), `record ${m.offset} bytes`);
        got.push(m.offset);
      }
    };
    try {
      reader.seek(0);
      for (const [k, seg] of segs.entries()) {
        const bytes = readFileSync(join(src, seg));
        const fd = openSync(join(dir, seg), 'w');
        try {
          let size = 0;
          while (size < bytes.length) {
            const step = Math.min(bytes.length - size, size === 0 ? SEGMENT_HEADER_BYTES : int(1, 3000));
            writeSync(fd, bytes, size, step, size);
            size += step;
            if (k === 0 && size === SEGMENT_HEADER_BYTES) reader.seek(0);
            drain();
          }
          if (junk && k === 1) writeSync(fd, Buffer.alloc(int(1, 60), 7), 0, undefined, size);
          drain();
        } finally {
          closeSync(fd);
        }
      }
      drain();
      drain();
    } catch (e) {
      error = e;
    } finally {
      reader.close();
    }
    if (junk) {
      assert.is((error as { code?: string } | null)?.code, 'ERR_LOG_CORRUPT', `junk after a sealed segment's last frame: ${String(error)}; read ${got.length}`);
    } else {
      assert.is(error, null, String(error));
      assert.equal(got, Array.from({ length: n }, (_, i) => i), 'every record once');
    }
  }
});

test.run();
