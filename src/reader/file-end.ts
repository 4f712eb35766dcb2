/**
 * The end of a log's files as they are at one moment, taken cheaply (no walk over frames): the newest
 * segment listed and its size from one stat. A nonblocking call that reads the files without a limit
 * published by this process's writer stops there (LogReader.fixEnd): it hands out no record of a frame
 * that ends past that size (a frame being written then), nor of a newer segment. Those are left for
 * the next call; the end never cuts a record and skips none.
 */
import { join } from 'node:path';
import type { FileIO } from '../storage/file-io.js';
import { segmentName } from '../segment/segment-files.js';
import { MAX_LISTINGS } from './segment-file.js';
import { segmentBases } from './segment-list.js';

export interface FileEnd {
  /** The newest segment's base offset; -1 when the log had none (nothing is read). */
  readonly base: number;
  /** Its size in bytes (Infinity: not known, the segment is read to its end). */
  readonly position: number;
}

/**
 * The end of the files of `dir` now. The size of the segment the reader has open (`openBase` at
 * `openFd`, -1: none) is read from its descriptor.
 */
export function fileEndNow(io: FileIO, dir: string, openBase: number, openFd: number): FileEnd {
  for (let attempt = 1; ; attempt++) {
    const bases = segmentBases(io, dir);
    const base = bases.at(-1);
    if (base === undefined) return { base: -1, position: 0 };
    if (openFd >= 0 && openBase === base) return { base, position: io.fsize(openFd) };
    const size = sizeOf(io, join(dir, segmentName(base)));
    if (size !== null) return { base, position: size };
    // Listed as the newest, then gone: the writer rolled on and retention deleted it meanwhile (list
    // again). Still listed (a dangling link, say): the reader reads it to its end and judges it there.
    if (attempt >= MAX_LISTINGS || segmentBases(io, dir).includes(base)) return { base, position: Infinity };
  }
}

/** The size of the file at `path` (one stat), or null when there is none. */
function sizeOf(io: FileIO, path: string): number | null {
  try {
    if (io.stampPath !== undefined) return Number(io.stampPath(path).size);
    const fd = io.open(path, 'r');
    try {
      return io.fsize(fd);
    } finally {
      io.close(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
