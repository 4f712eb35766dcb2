// The cells of bench/memory.ts, each run by plain `node` in a fresh process (no TypeScript loader,
// whose own code and heap would weigh more than what is measured), so that the process's peak
// resident memory (process.resourceUsage().maxRSS: every thread of it, kept by the kernel) is the
// cell's alone: a producer appending `bytes` of 1 KiB records, a consumer reading them all, and the
// raw floors: the same bytes written with 1 MiB writes from one reused buffer, and the segment
// files read back with 1 MiB preads into one buffer. Prints one JSON line:
// { maxRssBytes, moved, seconds }.
//
//   node bench/lib/memory-cell.mjs '{"cell":"producer","dir":"...","bytes":1073741824}'
import { closeSync, openSync, readSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../../dist/index.js';

const RECORD_BYTES = 1024;
const CHUNK = 1024 * 1024;

/** Appends `bytes` of 1 KiB records (SyncPolicy.never, no retention), waiting for ring room without blocking, then closes. */
async function producer({ dir, bytes }) {
  const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null });
  const record = Buffer.alloc(RECORD_BYTES, 0x61);
  const n = Math.floor(bytes / RECORD_BYTES);
  for (let i = 0; i < n; i++) {
    if ((i & 0x3fff) === 0) await p.writable({ bytes: RECORD_BYTES });
    p.append(record);
  }
  await p.close();
  return n;
}

/** Reads the whole log of `dir` with iter() from the oldest record; counts the 1 KiB records. */
async function consumer({ dir }) {
  const c = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  let n = 0;
  for (const m of c.iter()) n += m.data.byteLength === RECORD_BYTES ? 1 : 0;
  await c.close();
  return n;
}

/** Writes `bytes` to one file with 1 MiB writes of one reused buffer (page cache). */
function rawWrites({ dir, bytes }) {
  const buf = Buffer.alloc(CHUNK, 0x61);
  const fd = openSync(join(dir, 'raw.bin'), 'w');
  let written = 0;
  while (written < bytes) written += writeSync(fd, buf, 0, CHUNK, written);
  closeSync(fd);
  return written;
}

/** Reads every segment file of `dir` with 1 MiB preads into one buffer. */
function rawReads({ dir }) {
  const buf = Buffer.alloc(CHUNK);
  let read = 0;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.seg')) continue;
    const fd = openSync(join(dir, name), 'r');
    for (let at = 0, got = 1; got > 0; at += got) {
      got = readSync(fd, buf, 0, CHUNK, at);
      read += got;
    }
    closeSync(fd);
  }
  return read;
}

const CELLS = { producer, consumer, rawWrites, rawReads };
const arg = JSON.parse(process.argv[2]);
const t0 = globalThis.performance.now();
const moved = await CELLS[arg.cell](arg);
console.log(JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024, moved, seconds: (globalThis.performance.now() - t0) / 1000 }));
