// A consumer in another process: this script forks itself; the child follows the log from its own
// process (it reads the files), the parent appends. Run: node examples/other-process.mjs
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from 'reactive-log';

if (process.argv[2] === 'consumer') {
  // The child: reads 5 records as they come, reports each to the parent.
  const consumer = await Consumer.open({ logDir: process.argv[3], style: ConsumerStyle.nonTx(Whence.oldest()) });
  let n = 0;
  for await (const msg of consumer) {
    process.send({ offset: msg.offset, text: Buffer.from(msg.data).toString() });
    if (++n === 5) break;
  }
  await consumer.close();
  process.exit(0);
}

const logDir = mkdtempSync(join(tmpdir(), 'example-processes-'));
try {
  const producer = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  const child = fork(fileURLToPath(import.meta.url), ['consumer', logDir]);
  const received = [];
  child.on('message', (m) => received.push(m));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (let i = 0; i < 5; i++) {
    producer.append(`hello ${i}`);
    await producer.flush();
  }
  const code = await exited;
  await producer.close();
  for (const m of received) console.log(`the other process read offset ${m.offset}: ${m.text}`);
  if (code !== 0 || received.length !== 5) throw new Error(`child exited ${code} after ${received.length} records`);
  console.log('ok: 5 records crossed processes');
} finally {
  rmSync(logDir, { recursive: true, force: true });
}
