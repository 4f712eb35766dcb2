// A processing function in a pool of worker threads: records are dispatched in log order, the cursor
// advances over the contiguous prefix of finished records. Run: node examples/pool.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from 'reactive-log';

const logDir = mkdtempSync(join(tmpdir(), 'example-pool-'));
try {
  const producer = await Producer.open({ logDir, syncPolicy: SyncPolicy.periodic(10) });
  for (let i = 0; i < 10_000; i++) producer.append(`record ${i}`);
  await producer.close();

  const consumer = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('hasher') });
  const summary = await consumer.nonblockingProcess(null, new URL('./pool-handler.mjs', import.meta.url), { workers: 2 });
  console.log(`committed ${summary.committed}, stopped by ${summary.stoppedBy}, cursor at ${consumer.committedOffset}`);
  await consumer.close();
  console.log('ok: the pool processed every record');
} finally {
  rmSync(logDir, { recursive: true, force: true });
}
