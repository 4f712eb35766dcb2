// The physical limit as a cell of the matrix, run in the same alternation as the systems so that it
// meets the disk in the same state (a virtual disk's burst credit, writeback left by earlier cells):
// the payload bytes, no framing and no per-record copy, written sequentially with writeSync in 1 MiB
// chunks. never: no sync;
// periodic: fdatasync once a second; always: fdatasync after every chunk (the writes a group commit of
// 1 MiB would make). Counted when written (never, periodic) or fsynced (always).
import { closeSync, fdatasyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { runCells, now } from './common.mjs';

const CHUNK = 1024 * 1024;

await runCells({
  async open(cell) {
    mkdirSync(cell.dir, { recursive: true });
    const fd = openSync(join(cell.dir, 'raw.bin'), 'w');
    // One chunk of payload bytes, filled once: the limit is the disk's, so no per-record copy here.
    const chunk = Buffer.alloc(Math.max(CHUNK, cell.recordBytes), 0x61);
    let pending = 0; // bytes accepted and not yet written
    let position = 0;
    let lastSync = now();
    const writeOut = (bytes) => {
      while (bytes > 0) {
        const n = Math.min(bytes, chunk.length);
        let done = 0;
        while (done < n) done += writeSync(fd, chunk, done, n - done, position + done);
        position += n;
        bytes -= n;
        if (cell.level === 'always' || (cell.level === 'periodic' && now() - lastSync >= 1000)) {
          fdatasyncSync(fd);
          lastSync = now();
        }
      }
    };
    return {
      send(payload, n) {
        pending += payload.length * n;
        if (pending >= chunk.length) {
          const whole = pending - (pending % chunk.length);
          writeOut(whole);
          pending -= whole;
        }
      },
      async settle() {
        writeOut(pending);
        pending = 0;
        if (cell.level === 'always') fdatasyncSync(fd);
      },
      diskBytes: () => position,
      close: () => closeSync(fd),
    };
  },
  inFlight: 1,
});
