/**
 * The dedup window's rebuild at open (src/producer/dedup-rebuild.ts), run on the source modules with a
 * file layer that forces each case: retention deleting a segment between the rebuild's listing and its
 * read (the writer thread runs retention while the producer's thread rebuilds), an index whose entries
 * no longer name their frames (derived data: a longer scan, never a refused open), and a damaged frame
 * header before the first record of a `{ ms }` window (the time seek must not pass over it: the open
 * is refused, as for a `{ records }` window, instead of forgetting every key behind the damage).
 */
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { LogError } from '../src/errors.js';
import { rebuildDedupWindow } from '../src/producer/dedup-rebuild.js';
import { nodeFileIO, type FileIO } from '../src/storage/file-io.js';
import { suite, tempDir } from './kit.js';
import { damage } from './reader-kit.js';
import { framePerMillisecond } from './time-kit.js';

const test = suite('dedup-rebuild');

/** A log of `n` records `r<i>` with dedup keys `k<i>`, a frame every `perFrame` records, in segments of `rollBytes`. */
async function keyedLog(n: number, perFrame: number, rollBytes: number, indexIntervalBytes = 4096): Promise<string> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: rollBytes, indexIntervalBytes, syncPolicy: SyncPolicy.never(), dedupWindow: { records: n } });
  for (let i = 0; i < n; i++) {
    p.append(`r${i} ${'p'.repeat(40)}`, { dedupKey: `k${i}` });
    if (i % perFrame === perFrame - 1) await p.flush();
  }
  await p.close();
  return logDir;
}

const keysFound = (w: ReturnType<typeof rebuildDedupWindow>, n: number, next: number): number[] =>
  Array.from({ length: n }, (_, i) => w.lookup(`k${i}`, next) ?? -1);

test('a segment retention deletes between the listing and its read is passed over; one still listed but gone is an error', async () => {
  const n = 400;
  const logDir = await keyedLog(n, 20, 2048);
  const segments = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
  assert.ok(segments.length >= 4, `${segments.length} segments`);
  // Retention's step, at the moment the rebuild opens the oldest segment: that segment and its index go.
  let deleted = false;
  const io: FileIO = {
    ...nodeFileIO,
    open: (path, flags) => {
      if (!deleted && path.endsWith(segments[0]!)) {
        deleted = true;
        rmSync(path);
        rmSync(path.replace(/\.seg$/, '.idx'), { force: true });
      }
      return nodeFileIO.open(path, flags);
    },
  };
  const w = rebuildDedupWindow(io, logDir, { records: n }, n);
  assert.ok(deleted);
  const firstKept = Number(segments[1]!.slice(0, -4));
  assert.equal(keysFound(w, n, n), Array.from({ length: n }, (_, i) => (i < firstKept ? -1 : i)), 'the deleted segment\'s keys only are gone');

  // A segment the directory still lists that cannot be opened is not retention's doing.
  const gone: FileIO = { ...nodeFileIO, open: (path, flags) => (path.endsWith(segments[2]!) ? (() => { throw Object.assign(new Error('ENOENT: gone'), { code: 'ENOENT' }); })() : nodeFileIO.open(path, flags)) };
  assert.throws(() => rebuildDedupWindow(gone, logDir, { records: n }, n), (e: Error) => (e as { code?: string }).code === 'ENOENT');
});

test('index entries that do not name their frames cost a longer scan, not a refused open', async () => {
  const n = 1200;
  const logDir = await keyedLog(n, 10, 64 * 1024, 1024);
  for (const name of readdirSync(logDir).filter((f) => f.endsWith('.idx'))) {
    const b = readFileSync(join(logDir, name));
    // Every entry's position one byte on: still increasing and within the file, so the index reads as valid.
    for (let at = 0; at + 16 <= b.length; at += 16) b.writeUInt32LE(b.readUInt32LE(at + 8) + 1, at + 8);
    writeFileSync(join(logDir, name), b);
  }
  for (const records of [n, 500, 37]) {
    const w = rebuildDedupWindow(nodeFileIO, logDir, { records }, n);
    assert.equal(keysFound(w, n, n), Array.from({ length: n }, (_, i) => (i >= n - records ? i : -1)), `{ records: ${records} }`);
  }
  // Through Producer.open as well.
  const p = await Producer.open({ logDir, fileRollSize: 64 * 1024, indexIntervalBytes: 1024, dedupWindow: { records: 500 } });
  assert.is(p.append('retry', { dedupKey: `k${n - 1}` }), n - 1);
  await p.close();
});

test('a { ms } window whose first record lies behind a damaged frame header: ERR_LOG_CORRUPT, not a window that forgot its keys', async () => {
  const logDir = tempDir();
  // The search walks frame by frame from the last index entry older than the window's start: damage the
  // frame after an entry's frame (v), and start the window at the frame after that (offset v + 1).
  const { frames, v } = await framePerMillisecond(logDir, true);
  const victim = frames[v]!;
  const windowStart = frames[v + 1]!.h.timestampMs;
  damage(victim.path, victim.pos); // the frame's magic
  const io: FileIO = { ...nodeFileIO, now: () => windowStart + 1000 };
  const err = (() => {
    try {
      rebuildDedupWindow(io, logDir, { ms: 1000 }, 40);
      return null;
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof LogError && err.code === 'ERR_LOG_CORRUPT', `refused: ${String(err)}`);
  // A window that starts before the damage is refused the same way; one past every record is empty.
  assert.throws(() => rebuildDedupWindow({ ...io, now: () => frames[5]!.h.timestampMs + 1000 }, logDir, { ms: 1000 }, 40), (e: Error) => (e as LogError).code === 'ERR_LOG_CORRUPT');
  const empty = rebuildDedupWindow({ ...io, now: () => frames[39]!.h.timestampMs + 1001 }, logDir, { ms: 1000 }, 40);
  assert.equal(keysFound(empty, 40, 40).filter((o) => o >= 0), []);
});

test.run();
