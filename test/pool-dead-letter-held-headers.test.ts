/**
 * The bound on the exhausted records a pool holds for their dead letters (pool-dead-letter-held-bytes)
 * counts their headers too: it counted data and key only, so records whose bytes are mostly headers
 * (up to 255 values of 64 KiB each) piled up without limit behind a slow record, 700 records of
 * 256 KiB of headers holding about 175 MiB on the consumer's thread. Every record is still
 * dead-lettered once, in order.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setEnvironmentData } from 'node:worker_threads';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, decodeDeadLetter } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('pool-dead-letter-held-headers');
const HANDLER = fileURLToPath(new URL('./fixtures/slow-first-pool-handler.mjs', import.meta.url));
const RECORDS = 1_400;
const MiB = 1024 * 1024;

test('exhausted records of headers behind a slow one: the bytes held for their dead letters stay bounded', async () => {
  const gate = new Int32Array(new SharedArrayBuffer(8));
  setEnvironmentData('rlog-test-slow-first-gate', gate.buffer);
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  // 256 KiB of headers, a few bytes of data.
  const headers: Record<string, string> = {};
  for (let h = 0; h < 4; h++) headers[`h${h}`] = 'x'.repeat(64 * 1024 - 16);
  for (let i = 0; i < RECORDS; i++) p.append('r', { headers });
  await p.close();
  const deadLetterDir = join(tempDir(), 'dl');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('held'), retry: { maxAttempts: 1, deadLetterDir } });
  global.gc?.();
  const used = (): number => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const base = used();
  let peak = base;
  try {
    const call = c.nonblockingProcess(null, HANDLER, { workers: 2, batchRecords: 1, timeoutMs: 120_000 });
    // Two lanes, stripes of one record: lane 1 runs the odd records while record 0 (lane 0) waits at
    // the gate until lane 1 stands still (done, or parked: its calls stopped moving for 200 looks).
    let last = -1;
    let still = 0;
    await waitFor(() => {
      peak = Math.max(peak, used());
      const calls = Atomics.load(gate, 0);
      still = calls === last ? still + 1 : 0;
      last = calls;
      return calls > 1 && still >= 200;
    }, 'the other lane to stand still', 60_000);
    Atomics.store(gate, 1, 1);
    const summary = await call;
    assert.equal(summary, { committed: 1, skipped: RECORDS - 1, retried: RECORDS - 1, stoppedBy: 'end' });
    // Lane 1's 700 exhausted records hold 175 MiB of header values; the bound is 64 MiB (and one record).
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
