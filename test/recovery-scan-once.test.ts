/**
 * Recovery of the active segment after a crash under SyncPolicy.never(): no frame of the segment
 * carries a durable position past the segment's header, so the scan starts at the first frame, and
 * recovery reads the segment's frames once (the index entries past the durable position are passed
 * over unread, not each checked in full before the scan checks them again). The log recovered is
 * the same: every written record, in order.
 */
import * as assert from 'uvu/assert';
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { recoverActive } from '../src/storage/recover-active.js';
import { countingIO } from './reader-kit.js';
import { readRecords, suite, tempDir, waitFor } from './kit.js';

const test = suite('recovery-scan-once');

test('a crash image of a never-synced active segment: its frames are read once, and every record is kept', async () => {
  const logDir = tempDir();
  const image = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), maxTotalBytes: null });
  const record = Buffer.alloc(100, 0x61);
  // Batches of 2,000 records: one frame of about 200 KiB each, each with its index entry.
  for (let burst = 0; burst < 20; burst++) {
    p.appendBatch(Array.from({ length: 2000 }, () => record));
    await waitFor(() => p.writtenOffset === p.nextOffset, 'the batch written');
  }
  // The files as a crash would leave them: written, never fsynced by the writer.
  cpSync(logDir, image, { recursive: true });
  await p.close();

  const segment = readdirSync(image).find((n) => n.endsWith('.seg'))!;
  const bytes = statSync(join(image, segment)).size;
  const counting = countingIO();
  const r = recoverActive(counting.io, image, Number(segment.slice(0, 20)), 64 * 1024, null);
  assert.is(r.info.endOffset, 40_000, 'every record written is kept');
  assert.is(r.truncated, null);
  const read = counting.bytesRead();
  assert.ok(read < 1.2 * bytes, `recovery read ${read} bytes for a segment of ${bytes}`);

  const q = await Producer.open({ logDir: image });
  assert.is(q.nextOffset, 40_000);
  await q.close();
  assert.is((await readRecords(image)).length, 40_000);
});

test.run();
