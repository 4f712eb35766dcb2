/**
 * Consumer.open at Whence.position(n) with no producer in this process: when a valid frame holds
 * record n, it is read without searching for the log's end first; every other case (n at or past the
 * end, below the start, durable visibility, a directory listing that went stale, a path that is not a
 * directory) answers as the general path does. A seek into a large segment reads the sparse index and a
 * little of the segment, not the whole of it. The logs are written by a producer in a child process.
 */
import * as assert from 'uvu/assert';
import { cpSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence } from '../src/index.js';
import { LogReader } from '../src/reader/log-reader.js';
import { clearReaderCaches } from '../src/reader/verified-cache.js';
import { DURABLE_HINT_FILE, encodeDurableHint } from '../src/storage/durable-hint.js';
import { suite, rejectsWith, tempDir } from './kit.js';
import { ChildProducer, checkRecord, countingIO, makeLog, payload, readFrom, settle, track } from './reader-kit.js';

const test = suite('seek-position');
const N = 3000;
const MiB = 1024 * 1024;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const optionOf = (e: unknown) => (e as { details: { option?: string } }).details.option;

test('a record found in a valid frame is read without a search for the end; the end itself takes one', async () => {
  const logDir = await makeLog(tempDir(), N); // just written: nothing of it is settled, so nothing is cached
  clearReaderCaches();
  for (const at of [0, 1, 159, 160, 1500, N - 2, N - 1]) {
    const delta = track();
    assert.equal(await readFrom(logDir, Whence.position(at)), range(at, N), `position(${at})`);
    assert.is(delta().boundsWalks, 0, `position(${at}): no search for the end`);
  }
  const delta = track();
  assert.equal(await readFrom(logDir, Whence.position(N)), [], 'position(end) is allowed');
  assert.is(delta().boundsWalks, 1, 'position(end): found by searching for the end');
  const err = await rejectsWith(readFrom(logDir, Whence.position(N + 1)), 'ERR_INVALID_OPTION');
  assert.is(optionOf(err), 'whence');
});

test('position below the start after retention, and a directory listing gone stale meanwhile', async () => {
  const dir = tempDir();
  const logDir = await makeLog(dir, N);
  await settle(logDir);
  clearReaderCaches();
  assert.equal(await readFrom(logDir, Whence.position(10)), range(10, N), 'read once: the listing is cached');
  // Another producer appends past a roll and retention deletes the oldest segments; this process's
  // last listing still names them.
  const p = await ChildProducer.open(logDir, { syncPolicy: 'never', maxBatchBytes: 32 * 1024, fileRollSize: 512 * 1024, maxTotalBytes: 1024 * 1024 });
  await p.append(range(N, 3 * N).map(payload), 'none');
  const start = (await p.close()).logStartOffset;
  assert.ok(start > 0, 'retention deleted segments');
  for (const at of [0, start - 1]) {
    const err = await rejectsWith(readFrom(logDir, Whence.position(at)), 'ERR_POSITION_EXPIRED');
    assert.is((err as unknown as { details: { logStartOffset: number } }).details.logStartOffset, start);
  }
  for (const at of [start, 3 * N - 1, start + 7]) assert.equal(await readFrom(logDir, Whence.position(at)), range(at, 3 * N), `position(${at})`);
  assert.equal(await readFrom(logDir, Whence.position(3 * N)), []);
  await rejectsWith(readFrom(logDir, Whence.position(3 * N + 1)), 'ERR_INVALID_OPTION');
});

test('durable visibility: a position past the durable end is accepted and waits; below it, reads up to it', async () => {
  const logDir = await makeLog(tempDir(), N);
  const hint = 1000;
  writeFileSync(join(logDir, DURABLE_HINT_FILE), encodeDurableHint(hint)); // the writer reported less as durable
  await settle(logDir);
  const durable = async (at: number) => {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(at)), visibility: 'durable' });
    try {
      const seen: number[] = [];
      for (const m of c.iter()) {
        checkRecord(m);
        seen.push(m.offset);
      }
      return { seen, position: c.position };
    } finally {
      await c.close();
    }
  };
  for (let pass = 0; pass < 2; pass++) { // the second pass with the frames cached
    assert.equal(await durable(990), { seen: range(990, hint), position: hint });
    assert.equal(await durable(hint), { seen: [], position: hint });
    assert.equal(await durable(2000), { seen: [], position: 2000 }, 'past the durable end: accepted, nothing yet');
    assert.equal(await durable(N), { seen: [], position: N });
    await rejectsWith(durable(N + 1), 'ERR_INVALID_OPTION');
  }
});

test('a logDir that is a file, or missing, is ERR_INVALID_OPTION naming logDir', async () => {
  const file = join(tempDir(), 'not-a-dir');
  writeFileSync(file, 'x');
  for (const logDir of [file, join(file, 'below'), join(tempDir(), 'missing')]) {
    const err = await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(0)) }), 'ERR_INVALID_OPTION');
    assert.is(optionOf(err), 'logDir', logDir);
  }
});

test('a seek into a large segment reads the sparse index and a little of the segment, not the whole of it', async () => {
  const logDir = tempDir();
  const record = (i: number) => `${i}:`.padEnd(1000, String.fromCharCode(97 + (i % 26)));
  const n = 8000; // about 8 MB in one segment
  const p = await ChildProducer.open(logDir, { fileRollSize: 64 * MiB, indexIntervalBytes: 4096, maxBatchBytes: 4096, syncPolicy: 'never' });
  for (let i = 0; i < n; i += 500) await p.append(Array.from({ length: Math.min(500, n - i) }, (_, k) => record(i + k)), 'none');
  await p.close();
  assert.equal(readdirSync(logDir).filter((f) => f.endsWith('.seg')), ['00000000000000000000.seg'], 'a single segment');
  const segBytes = statSync(join(logDir, '00000000000000000000.seg')).size;
  assert.ok(segBytes > 7 * MiB, `segment of ${segBytes} bytes`);
  const idxBytes = statSync(join(logDir, '00000000000000000000.idx')).size;
  assert.ok(idxBytes >= 16 * 100, `the index holds entries (${idxBytes} bytes)`);

  const seekAndRead = (dir: string, target: number) => {
    const counter = countingIO();
    const reader = new LogReader(counter.io, dir);
    try {
      reader.seek(target);
      const m = reader.read(Infinity, false);
      assert.ok(m !== null, `a record at ${target}`);
      assert.is(m!.offset, target);
      assert.is(Buffer.from(m!.data).toString(), record(target));
      const after = reader.read(Infinity, false);
      assert.is(after?.offset, target + 1);
      return counter.bytesRead();
    } finally {
      reader.close();
    }
  };

  const target = n - 150;
  const indexed = seekAndRead(logDir, target);
  assert.ok(indexed < segBytes / 20, `a seek to ${target} read ${indexed} bytes of a ${segBytes}-byte segment`);
  const middle = seekAndRead(logDir, n / 2);
  assert.ok(middle < 1.5 * MiB, `a seek to the middle read ${middle} bytes (at most a chunk past the index entry)`);

  // The control: the same seek without the index has to scan the segment.
  const copy = tempDir();
  cpSync(logDir, copy, { recursive: true });
  renameSync(join(copy, '00000000000000000000.idx'), join(copy, 'moved-away'));
  const unindexed = seekAndRead(copy, target);
  assert.ok(unindexed > segBytes * 0.9, `without the index the seek read ${unindexed} bytes`);
});

test.run();
