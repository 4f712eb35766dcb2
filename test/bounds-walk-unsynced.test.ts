/**
 * The log's end read from the files (readLogBounds: a consumer's open at Whence.latest or at a
 * position past durable.offset, a nonblocking pool call, lag(), inspectLog) in another process. After
 * a power loss, before a producer recovered, it walks the newest segment's frames from its last index
 * entry at or below durable.offset (test/reader-index-past-torn-frame.test.ts); beside a live producer
 * that finished its recovery (its lock file says so) it starts at the last index entry. Under
 * SyncPolicy.never() durable.offset stays at the segment's base until the next roll, so the long walk
 * would read and checksum the whole newest segment (up to fileRollSize) at every such call.
 */
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLogBounds } from '../src/reader/log-bounds.js';
import { clearReaderCaches } from '../src/reader/verified-cache.js';
import { suite, tempDir } from './kit.js';
import { ChildProducer, countingIO } from './reader-kit.js';

const test = suite('bounds-walk-unsynced');
const MiB = 1024 * 1024;

test('the end of a live never()-synced log read from another process reads a little of the newest segment, not all of it', async () => {
  const logDir = tempDir();
  const record = (i: number) => `${i}:`.padEnd(1000, String.fromCharCode(97 + (i % 26)));
  const n = 8000; // about 8 MB in one segment
  const p = await ChildProducer.open(logDir, { fileRollSize: 64 * MiB, indexIntervalBytes: 4096, maxBatchBytes: 4096, syncPolicy: 'never' });
  try {
    let state = { writtenOffset: 0 };
    for (let i = 0; i < n; i += 500) state = await p.append(Array.from({ length: Math.min(500, n - i) }, (_, k) => record(i + k)), 'written');
    assert.is(state.writtenOffset, n, 'every record written (not fsynced: SyncPolicy.never())');
    assert.equal(readdirSync(logDir).filter((f) => f.endsWith('.seg')), ['00000000000000000000.seg'], 'a single segment');
    const segBytes = statSync(join(logDir, '00000000000000000000.seg')).size;
    assert.ok(segBytes > 7 * MiB, `segment of ${segBytes} bytes`);
    clearReaderCaches();
    const counter = countingIO();
    assert.equal(readLogBounds(counter.io, logDir), { start: 0, end: n });
    const read = counter.bytesRead();
    assert.ok(read < segBytes / 20, `reading the log's end read ${read} bytes of a ${segBytes}-byte segment`);

    // The same live owner, its lock file as a producer still recovering leaves it (no "recovered"):
    // the walk starts at the last index entry at or below durable.offset, the segment's base here.
    const lockPath = join(logDir, 'producer.lock');
    const owner = JSON.parse(readFileSync(lockPath, 'utf8')) as Record<string, unknown>;
    assert.is(owner.recovered, true, 'the producer marks its lock file once its recovery is done');
    delete owner.recovered;
    writeFileSync(lockPath, JSON.stringify(owner));
    clearReaderCaches();
    const longWay = countingIO();
    assert.equal(readLogBounds(longWay.io, logDir), { start: 0, end: n });
    assert.ok(longWay.bytesRead() >= segBytes * 0.9, `before the owner's recovery is done the walk checks every frame from durable.offset: ${longWay.bytesRead()} of ${segBytes} bytes`);
  } finally {
    await p.close();
  }
});

test.run();
