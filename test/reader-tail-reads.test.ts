/**
 * A consumer at the end of a live log, in the producer's process, reads each new frame with one pread
 * and without asking the file's size (src/reader/segment-file.ts, readAtTail): the file calls of its
 * thread while it follows the producer record by record. And reads that come back short of what the
 * file holds (injected) cost nothing but another read: every record comes, once, in order.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type Message } from '../dist/index.js';
import { readTrace, withFaults } from './faults.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('reader-tail-reads');

const texts = (n: number): string[] => Array.from({ length: n }, (_, i) => `r${i}`);

/** Appends `n` records one at a time, each waited for by a `for await` consumer at the end; returns what it got. */
async function follow(logDir: string, n: number): Promise<string[]> {
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.latest()) });
  const got: string[] = [];
  try {
    const done = (async () => {
      for await (const m of c.tail()) if (got.push(Buffer.from((m as Message).data).toString()) === n) break;
    })();
    for (let i = 0; i < n; i++) {
      p.append(`r${i}`);
      await waitFor(() => got.length === i + 1, `record ${i} consumed`);
    }
    await done;
  } finally {
    await c.close();
    await p.close();
  }
  return got;
}

test('following a live log record by record: one read a frame, the file size not asked for each', async () => {
  const root = tempDir();
  const trace = join(root, 'trace.txt');
  const logDir = join(root, 'log');
  const n = 200;
  const got = await withFaults({ rules: [], trace }, () => follow(logDir, n));
  assert.equal(got, texts(n));
  const main = readTrace(trace).filter((l) => l.thread === 'main' && l.path.endsWith('.seg'));
  const sizes = main.filter((l) => l.op === 'fsize' || l.op === 'stamp').length;
  const reads = main.filter((l) => l.op === 'read').length;
  // Each record is its own frame here; the first reads of the segment (its header, a stamped read)
  // and a read now and then after the live window lapses ask for the size.
  assert.ok(sizes < n / 4, `${sizes} size calls on the segment for ${n} frames followed`);
  assert.ok(reads <= 2 * n, `${reads} reads for ${n} frames`);
});

test('reads that come back short of what the file holds: every record once, in order', async () => {
  const logDir = tempDir();
  const n = 120;
  // From the third on, every read of a segment on the main thread moves at most 7 bytes.
  const short = { op: 'read', path: '\\.seg$', thread: 'main', nth: 3, persistent: true, effect: { short: 7 } } as const;
  assert.equal(await withFaults({ rules: [short] }, () => follow(logDir, n)), texts(n));
});

test.run();
