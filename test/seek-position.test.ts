/**
 * Consumer.open at Whence.position(n) with no producer in this process: when a valid frame holds
 * record n, it is read without searching for the log's end first; every other case (n at or past the
 * end, below the start, durable visibility, a directory listing that went stale, a path that is not a
 * directory) answers as the general path does.
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { Consumer, ConsumerStyle, Whence } from '../src/index.js';
import { clearReaderCaches } from '../src/reader/verified-cache.js';
import { DURABLE_HINT_FILE, encodeDurableHint } from '../src/storage/durable-hint.js';
import { suite, rejectsWith, tempDir } from './kit.js';
import { checkRecord, makeLog, payload, readFrom, settle, track } from './reader-kit.js';

const test = suite('seek-position');
const N = 3000;
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
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), maxBatchBytes: 32 * 1024, fileRollSize: 512 * 1024, maxTotalBytes: 1024 * 1024 });
  for (let i = N; i < 3 * N; i++) p.append(payload(i));
  await p.close();
  const start = p.logStartOffset;
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

test.run();
