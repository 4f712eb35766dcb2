// Producers on several threads of one process: the owner shares its producer, two worker threads
// attach and append, and a consumer reads one total order with each thread's records in its order.
// Run: node examples/threads.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from 'reactive-log';

if (!isMainThread) {
  // A worker thread: the same synchronous append as the owner's handle.
  const p = Producer.attach(workerData.token);
  for (let i = 0; i < 3; i++) p.append(`${workerData.name}: ${i}`);
  await p.close(); // waits until this handle's records are durable
  process.exit(0);
}

const logDir = mkdtempSync(join(tmpdir(), 'example-threads-'));
try {
  const producer = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  const token = producer.share();
  const workers = ['left', 'right'].map((name) => new Worker(new URL(import.meta.url), { workerData: { token, name } }));
  producer.append('owner: 0');
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once('exit', resolve))));
  await producer.close();

  const consumer = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const texts = [...consumer.iter()].map((m) => `${m.offset} ${Buffer.from(m.data).toString()}`);
  await consumer.close();
  for (const t of texts) console.log(t);
  if (texts.length !== 7) throw new Error(`expected 7 records, read ${texts.length}`);
  console.log('ok: 7 records from 3 threads, offsets 0 to 6');
} finally {
  rmSync(logDir, { recursive: true, force: true });
}
