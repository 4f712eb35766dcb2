/**
 * One question: what the file calls of a warm seek cost. A LogReader (from src/) seeks to random
 * records of a log built as bench/seek.ts builds it, through a file layer that times every call; it
 * prints, per call kind (reads by size), the time per seek, the calls per seek and the time per call,
 * and the reader's whole time per seek beside them (the timing itself adds a little to each call).
 *
 * Usage: node --import tsx bench/seek-calls.ts [records=5000000] [seeks=20000]
 * Run `npm run build` first: the log is written by the built producer.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogReader } from '../src/reader/log-reader.js';
import { nodeFileIO, type FileIO } from '../src/storage/file-io.js';
import { readBoth } from './lib/workloads.js';

const [records = 5_000_000, seeks = 20_000] = process.argv.slice(2).map(Number);
const root = mkdtempSync(join(tmpdir(), 'rlog-seek-calls-'));
try {
  await readBoth(join(root, 'read'), records, 1);
  const dir = realpathSync(join(root, 'read'));
  const spent = new Map<string, { calls: number; ns: number }>();
  const io = { ...nodeFileIO } as Record<string, unknown>;
  for (const [name, real] of Object.entries(nodeFileIO) as Array<[string, (...a: unknown[]) => unknown]>) {
    io[name] = (...args: unknown[]) => {
      const t0 = process.hrtime.bigint();
      try {
        return real(...args);
      } finally {
        const key = name === 'read' ? `read ${String(args[3])} B` : name;
        const s = spent.get(key) ?? { calls: 0, ns: 0 };
        s.calls++;
        s.ns += Number(process.hrtime.bigint() - t0);
        spent.set(key, s);
      }
    };
  }
  const seekOnce = (): void => {
    const offset = Math.floor(Math.random() * records);
    const r = new LogReader(io as unknown as FileIO, dir);
    try {
      if (!r.seekToRecord(offset) || r.read(Infinity, false)?.offset !== offset) throw new Error(`seek to ${offset} failed`);
    } finally {
      r.close();
    }
  };
  // The log was read in this process by the built code (another module instance): warm this one.
  for (let i = 0; i < 5_000; i++) seekOnce();
  spent.clear();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < seeks; i++) seekOnce();
  const totalNs = Number(process.hrtime.bigint() - t0);
  const us = (ns: number): string => (ns / 1000).toFixed(2).padStart(7);
  console.log(`${records.toLocaleString('en')} records, ${seeks.toLocaleString('en')} seeks (steady state)`);
  console.log('| file call | µs per seek | calls per seek | µs per call |');
  console.log('| --- | ---: | ---: | ---: |');
  let callsNs = 0;
  for (const [key, s] of [...spent].sort((a, b) => b[1].ns - a[1].ns)) {
    callsNs += s.ns;
    if (s.ns / seeks >= 5) console.log(`| ${key} | ${us(s.ns / seeks)} | ${(s.calls / seeks).toFixed(2)} | ${us(s.ns / s.calls)} |`);
  }
  console.log(`| all file calls | ${us(callsNs / seeks)} | | |`);
  console.log(`| the reader, in all | ${us(totalNs / seeks)} | | |`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
