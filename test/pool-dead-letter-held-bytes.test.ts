/**
 * A pool whose lane is held up by a slow record while the other lanes' records keep failing (an
 * outage downstream): each exhausted record waits on the consumer's thread for its dead letter,
 * which is written once every record before it is finished. The coordinator held a copy of every
 * one of them, up to the outcome window (65,536 records of any size): 700 records of 256 KiB
 * held 175 MiB here, and records of a few MiB ran the process out of memory. Past 64 MiB held, the
 * lanes wait for the dead letters now; every record is still dead-lettered once, in order.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setEnvironmentData } from 'node:worker_threads';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, decodeDeadLetter } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('pool-dead-letter-held-bytes');
const HANDLER = fileURLToPath(new URL('./fixtures/slow-first-pool-handler.mjs', import.meta.url));
const RECORDS = 1_400;
const RECORD_BYTES = 256 * 1024;
const MiB = 1024 * 1024;

test('exhausted records behind a slow one: the bytes held for their dead letters stay bounded', async () => {
  const gate = new Int32Array(new SharedArrayBuffer(8));
  setEnvironmentData('rlog-test-slow-first-gate', gate.buffer);
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const bytes = Buffer.alloc(RECORD_BYTES, 7); // one buffer appended again: the test's own memory stays small
  for (let i = 0; i < RECORDS; i++) p.append(bytes);
  await p.close();
  const deadLetterDir = join(tempDir(), 'dl');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('held'), retry: { maxAttempts: 1, deadLetterDir } });
  const base = process.memoryUsage().arrayBuffers;
  let peak = base;
  try {
    const call = c.nonblockingProcess(null, HANDLER, { workers: 2, batchRecords: 1, timeoutMs: 120_000 });
    // Two lanes, stripes of one record: lane 1 runs the odd records while record 0 (lane 0) waits at
    // the gate until lane 1 stands still (done, or parked: its calls stopped moving for 200 looks).
    let last = -1;
    let still = 0;
    await waitFor(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      const calls = Atomics.load(gate, 0);
      still = calls === last ? still + 1 : 0;
      last = calls;
      return calls > 1 && still >= 200;
    }, 'the other lane to stand still', 60_000);
    Atomics.store(gate, 1, 1);
    const summary = await call;
    assert.equal(summary, { committed: 1, skipped: RECORDS - 1, retried: RECORDS - 1, stoppedBy: 'end' });
    // Lane 1's 700 exhausted records are 175 MiB; the bound is 64 MiB (and one record).
    assert.ok(peak - base < 110 * MiB, `the coordinator held ${Math.round((peak - base) / MiB)} MiB of exhausted records`);
  } finally {
    await c.close();
  }
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const offsets: number[] = [];
  for (const m of d.iter()) offsets.push(decodeDeadLetter(m.data).offset); // one dead letter at a time, not all their bytes at once
  await d.close();
  assert.equal(offsets, Array.from({ length: RECORDS - 1 }, (_, i) => i + 1), 'each failed record has one dead letter, in order');
});

test.run();
