// TypeScript 5.2+: `await using` closes the producer and the consumer when the block ends, on any
// exit path. Node.js 20 does not parse `await using` itself: run it through TypeScript or tsx
// (node --import tsx examples/await-using.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, type Message } from 'reactive-log';

const logDir = mkdtempSync(join(tmpdir(), 'example-using-'));
try {
  {
    await using producer = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
    producer.append('written inside a block');
    await producer.flush();
  } // producer.close() ran here
  {
    await using consumer = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    const first: Message | undefined = consumer.iter().next().value ?? undefined;
    console.log(`read back: ${first === undefined ? '(nothing)' : Buffer.from(first.data).toString()}`);
  } // consumer.close() ran here
  // The directory is free again: a new producer opens it.
  const again = await Producer.open({ logDir });
  await again.close();
  console.log('ok: both handles were closed by their blocks');
} finally {
  rmSync(logDir, { recursive: true, force: true });
}
