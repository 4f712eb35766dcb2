/**
 * Records that pile up in the ring while the writer waits (here: held in an fdatasync) used to go into
 * one frame of up to maxBatchBytes (256 KiB), whatever room the segment and maxTotalBytes had left.
 * With segments of 4 KiB and maxTotalBytes of 16 KiB, a burst of 300 records (64 KiB) became one
 * segment of 64 KiB: without blockingMinimumRetention the roll after it deleted that segment at once
 * (every record of the burst gone, the newest 16 KiB of them included); with it, and a cursor holding
 * two records back, the writer held the whole burst back and flush() failed with ERR_LOG_FULL while
 * the log held 171 of its 16,384 bytes. A frame now takes no more than the active segment has room
 * for below fileRollSize (at least one record, or one appendBatch whole).
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type ProducerOptions } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('retention: a burst of records after a held writer');
const GATE_IO = fileURLToPath(new URL('./fixtures/gate-sync-io.mjs', import.meta.url));
const ROLL = 4096;
const MAX_TOTAL = 16 * 1024;
const RECORD = (i: number): string => `r-${String(i).padStart(3, '0')}-${'x'.repeat(200)}`;

const segmentSizes = (dir: string): number[] => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort().map((f) => statSync(join(dir, f)).size);

/** Opens a producer whose writer's next fdatasync, once armed, waits until `release()`. */
async function heldProducer(logDir: string, options: Partial<ProducerOptions>): Promise<{ p: Producer; hold: () => Promise<void>; release: () => void }> {
  const gateDir = tempDir();
  process.env.REACTIVE_LOG_TEST_FILE_IO = GATE_IO;
  process.env.GATE_DIR = gateDir;
  let p: Producer;
  try {
    p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: ROLL, maxTotalBytes: MAX_TOTAL, ringBytes: 128 * 1024, ...options });
  } finally {
    delete process.env.REACTIVE_LOG_TEST_FILE_IO;
    delete process.env.GATE_DIR;
  }
  return {
    p,
    /** Arms the gate, appends one record, and waits until the writer is held in its fdatasync. */
    hold: async () => {
      writeFileSync(join(gateDir, 'arm'), '');
      p.append('held');
      await waitFor(() => existsSync(join(gateDir, 'held')), 'the writer held in its fdatasync');
    },
    release: () => writeFileSync(join(gateDir, 'go'), ''),
  };
}

test('no blockingMinimumRetention: the newest records of the burst are kept, segments stay near fileRollSize', async () => {
  const logDir = tempDir();
  const { p, hold, release } = await heldProducer(logDir, {});
  try {
    await hold();
    for (let i = 0; i < 300; i++) p.append(RECORD(i));
    release();
    await p.flush();
  } finally {
    await p.close();
  }
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const kept = [...c.iter()].map((m) => Buffer.from(m.data).toString());
  await c.close();
  assert.ok(kept.length >= 40, `${kept.length} records kept`);
  assert.equal(kept, Array.from({ length: kept.length }, (_, k) => RECORD(300 - kept.length + k)), 'the newest records, in order');
  for (const size of segmentSizes(logDir)) assert.ok(size < ROLL + 300, `a segment of ${size} bytes`);
});

test('blockingMinimumRetention 0, a cursor holding two records: the burst is written as room allows', async () => {
  const logDir = tempDir();
  const { p, hold, release } = await heldProducer(logDir, { blockingMinimumRetention: 0, appendTimeoutMs: 5_000 });
  p.append('first');
  await p.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('slow') });
  try {
    await c.nonblockingProcess(1, () => 'commit');
    await hold();
    for (let i = 0; i < 60; i++) p.append(RECORD(i));
    release();
    await p.flush(); // 60 records of about 230 bytes: 14 KiB beside the two held back
    assert.is(p.durableOffset, 62);
    for (const size of segmentSizes(logDir)) assert.ok(size < ROLL + 300, `a segment of ${size} bytes`);
  } finally {
    await c.close();
    await p.close();
  }
});

test.run();
