// Exactly-once with state: a clientTx consumer keeps a running total committed with its cursor.
// A second consumer with the same id resumes after the committed records, with the total.
// Run: node examples/client-tx-state.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from 'reactive-log';

const logDir = mkdtempSync(join(tmpdir(), 'example-state-'));
const totalOf = (state) => (state === null ? 0 : Number(Buffer.from(state).toString()));
try {
  const producer = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  for (let amount = 1; amount <= 10; amount++) producer.append(String(amount));
  await producer.flush();

  // First run: handles 4 records, then stops (as a process that is restarted would).
  let consumer = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  let total = totalOf(consumer.state);
  await consumer.nonblockingProcess(4, (msg, ctx) => {
    total += Number(Buffer.from(msg.data).toString());
    ctx.setState(String(total)); // committed together with the record
    return 'commit';
  });
  await consumer.close();
  console.log(`first run: total ${total}, cursor at ${consumer.committedOffset}`);

  // Second run: starts after the committed records, with the committed total.
  consumer = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  total = totalOf(consumer.state);
  const summary = await consumer.nonblockingProcess(null, (msg, ctx) => {
    total += Number(Buffer.from(msg.data).toString());
    ctx.setState(String(total));
    return 'commit';
  });
  await consumer.close();
  await producer.close();
  console.log(`second run: ${summary.committed} more records, total ${total}`);
  if (total !== 55) throw new Error(`expected 55, got ${total}`);
  console.log('ok: every record counted once');
} finally {
  rmSync(logDir, { recursive: true, force: true });
}
