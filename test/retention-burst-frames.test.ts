/**
 * Records that pile up in the ring while the writer waits (here: held in an fdatasync) go into one
 * frame of up to maxBatchBytes (256 KiB), whatever room the segment and maxTotalBytes have left. With
 * segments of 4 KiB and maxTotalBytes of 16 KiB, a burst of 300 records (64 KiB) becomes one segment
 * of 64 KiB. Without blockingMinimumRetention, retention by bytes keeps the newest sealed segment, so
 * the roll after the burst does not delete every record of it at once; it goes once a newer segment
 * is sealed. Under blockingMinimumRetention 0 with a cursor holding records back, a burst that fits
 * is written and the log stays within maxTotalBytes.
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

/** Every record the log holds, from its oldest, as text. */
async function readAll(logDir: string): Promise<string[]> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...c.iter()].map((m) => Buffer.from(m.data).toString());
  } finally {
    await c.close();
  }
}
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

test('no blockingMinimumRetention: a burst framed whole is kept until newer segments hold newer records', async () => {
  const logDir = tempDir();
  const { p, hold, release } = await heldProducer(logDir, {});
  try {
    await hold();
    for (let i = 0; i < 300; i++) p.append(RECORD(i));
    release();
    await p.flush();
    // The burst went into one frame of about 64 KiB, four times maxTotalBytes: its segment is the newest sealed one.
    assert.equal((await readAll(logDir)).slice(-300), Array.from({ length: 300 }, (_, k) => RECORD(k)), 'the whole burst, in order');
    // Newer records in segments of their own: the burst's segment goes once a newer one is sealed.
    for (let i = 300; i < 400; i++) {
      p.append(RECORD(i));
      await p.flush();
    }
  } finally {
    await p.close();
  }
  const kept = await readAll(logDir);
  assert.ok(kept.length >= 20, `${kept.length} records kept`);
  assert.equal(kept, Array.from({ length: kept.length }, (_, k) => RECORD(400 - kept.length + k)), 'the newest records, in order');
  const total = segmentSizes(logDir).reduce((a, b) => a + b, 0);
  assert.ok(total <= MAX_TOTAL + 2 * ROLL, `${total} bytes in the log`);
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
    const total = segmentSizes(logDir).reduce((a, b) => a + b, 0);
    assert.ok(total <= MAX_TOTAL, `${total} bytes in the log`);
  } finally {
    await c.close();
    await p.close();
  }
});

test.run();
