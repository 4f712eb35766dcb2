// A producer appends orders with keys and headers; a consumer in the same process follows the log
// with `for await` and stops after the last one. Run: node examples/producer-tail.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from 'reactive-log';

const logDir = mkdtempSync(join(tmpdir(), 'example-tail-'));
try {
  const producer = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  const consumer = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.latest()) });

  const orders = [{ id: 1, total: 30 }, { id: 2, total: 12 }, { id: 3, total: 58 }];
  const appending = (async () => {
    for (const order of orders) {
      producer.append(JSON.stringify(order), { key: `customer-${order.id % 2}`, headers: { type: 'order' } });
      await producer.flush();
    }
  })();

  let seen = 0;
  for await (const msg of consumer) {
    const order = JSON.parse(Buffer.from(msg.data).toString());
    console.log(`offset ${msg.offset}: order ${order.id}, key ${Buffer.from(msg.key).toString()}, type ${msg.headers.type}`);
    if (++seen === orders.length) break; // leaving the loop ends the iteration
  }
  await appending;
  await consumer.close();
  await producer.close();
  console.log(`ok: followed ${seen} orders`);
} finally {
  rmSync(logDir, { recursive: true, force: true });
}
