// Appending from another process through the owner: the owner opens with acceptConnections, this
// script forks itself, and the child appends over the owner's socket; each append resolves with the
// offset the owner gave the record. Run: node examples/remote-producer.mjs
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from 'reactive-log';

if (process.argv[2] === 'remote') {
  const remote = await Producer.connect({ logDir: process.argv[3] });
  const offsets = await Promise.all([0, 1, 2].map((i) => remote.append(`from pid ${process.pid}: ${i}`, { key: 'remote' })));
  await remote.flush(); // durable as the owner's sync policy says
  await remote.close();
  process.send({ offsets });
  process.exit(0);
}

const logDir = mkdtempSync(join(tmpdir(), 'example-remote-'));
try {
  const producer = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), acceptConnections: true });
  producer.append('from the owner');
  const child = fork(fileURLToPath(import.meta.url), ['remote', logDir]);
  const reply = new Promise((resolve) => child.once('message', resolve));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  const { offsets } = await reply;
  await producer.close();

  const consumer = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  for (const m of consumer.iter()) console.log(`${m.offset} ${Buffer.from(m.data).toString()}${m.key ? ` (key ${Buffer.from(m.key).toString()})` : ''}`);
  await consumer.close();
  if (code !== 0 || offsets.join() !== '1,2,3') throw new Error(`child exited ${code} with offsets ${offsets}`);
  console.log('ok: 3 records appended from another process at offsets 1 to 3');
} finally {
  rmSync(logDir, { recursive: true, force: true });
}
