/**
 * A reader tailing another process's log meets invalid bytes at the end of the newest segment (a torn
 * tail a crash left: here zeros) and looks for proof of damage: a valid frame after them written after
 * an fsync that covered them. Between its read of those bytes and its search, the next producer's
 * recovery cuts them and writes G (fsynced) in their place, then G2, whose durable position lies past
 * the torn bytes' position. G2 proves G durable, not the bytes the reader judged: the reader must read
 * again what is there now and hand out G and G2, never report ERR_LOG_CORRUPT for a healthy log.
 */
import * as assert from 'uvu/assert';
import { closeSync, openSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { LogReader } from '../src/reader/log-reader.js';
import { nodeFileIO } from '../src/storage/file-io.js';
import { SEGMENT_HEADER_BYTES } from '../src/format/frame.js';
import { suite, tempDir } from './kit.js';
import { FIRST_FIVE, rewrittenTail } from './torn-tail-kit.js';

const test = suite('reader-proof-rewritten');

test('a proof found in bytes recovery wrote after the torn ones the reader judged is no proof: the reader reads on', async () => {
  // The log after recovery: the first frame, then G (fsynced) and G2 (its durable position past G's start).
  const b = await rewrittenTail();
  const firstFrameEnd = SEGMENT_HEADER_BYTES + b.readUInt32LE(SEGMENT_HEADER_BYTES + 8);

  // The log the reader finds first: the same first frame, then 3000 zero bytes (a torn tail).
  const dir = tempDir();
  const path = join(dir, '00000000000000000000.seg');
  const fd = openSync(path, 'w');
  writeSync(fd, b, 0, firstFrameEnd, 0);
  writeSync(fd, Buffer.alloc(3000), 0, 3000, firstFrameEnd);
  closeSync(fd);

  // Recovery's cut and the new writes land after the reader read the zeros, before it sizes the file
  // for its search.
  let armed = false;
  let rewritten = false;
  const io = {
    ...nodeFileIO,
    fsize: (fd: number) => {
      if (armed && !rewritten) {
        rewritten = true;
        const w = openSync(path, 'r+');
        ftruncateSync(w, firstFrameEnd);
        writeSync(w, b, firstFrameEnd, b.length - firstFrameEnd, firstFrameEnd);
        closeSync(w);
      }
      return nodeFileIO.fsize(fd);
    },
  };

  const reader = new LogReader(io, dir);
  const got: string[] = [];
  try {
    for (let tries = 0; tries < 3 && got.length < 7; tries++) {
      for (let m = reader.read(Infinity, false); m !== null; m = reader.read(Infinity, false)) {
        got.push(Buffer.from(m.data).toString());
        if (m.offset === 4) armed = true;
      }
    }
  } finally {
    reader.close();
  }
  assert.ok(rewritten, 'the rewrite happened between the read of the zeros and the search');
  assert.equal(got, [...FIRST_FIVE, 'g'.repeat(6000), 'g2']);
});

test.run();
