/**
 * A record another NATS client published with a header name given several values (NATS headers are
 * MIME-style, a name may repeat). `Message.headers` holds one string per name, so the values are
 * combined as HTTP combines repeated fields (RFC 9110, 5.3): in order, joined by ", ". Before, only
 * the first value reached the handler, and the dead letter dropped the rest. Skipped with a printed
 * reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream as natsJetstream } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, Whence, decodeDeadLetter, type Message } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream multi-value headers');
let server: NatsServer;
const dirs: string[] = [];
test.before(async () => { server = await startNats(); });
test.after(async () => {
  await stopAllNats();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A stream holding 'own' (appended with a header of its own), then 'foreign' published by nats.js with repeated names. */
async function streamWithForeignRecord(stream: string): Promise<ReturnType<typeof jetstream>> {
  const backend = jetstream({ servers: server.url, stream, leaseMs: 3_000, timeoutMs: 5_000 });
  const p = await Producer.open({ backend });
  p.append('own', { headers: { 'X-A': 'x, y' } });
  await p.close();
  const nc = await connect({ servers: server.url });
  try {
    const h = natsHeaders();
    h.append('X-A', 'first');
    h.append('X-B', 'solo');
    h.append('X-A', 'second');
    h.append('X-A', '');
    await natsJetstream(nc).publish(`rl.${stream}`, 'foreign', { headers: h });
  } finally {
    await nc.close();
  }
  return backend;
}

test('a repeated header name reaches the handler with its values joined by ", " in order', async () => {
  const backend = await streamWithForeignRecord(`mv-read-${process.pid}`);
  const c = await Consumer.open({ backend, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const seen: Message[] = [];
  try {
    await within(c.nonblockingProcess(null, (m) => { seen.push(m); return 'commit'; }), 20_000, 'the call');
  } finally {
    await c.close();
  }
  assert.equal(seen.map((m) => Buffer.from(m.data).toString()), ['own', 'foreign']);
  assert.equal(seen[0]!.headers, { 'X-A': 'x, y' }, 'a value of its own is untouched');
  assert.equal(seen[1]!.headers, { 'X-A': 'first, second, ', 'X-B': 'solo' });
});

test('the dead letter of such a record holds the joined value', async () => {
  const out = tempDir('rlog-js-mv-');
  dirs.push(out);
  const deadLetterDir = join(out, 'dl');
  const backend = await streamWithForeignRecord(`mv-dl-${process.pid}`);
  const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('mv'), retry: { maxAttempts: 1, deadLetterDir } });
  try {
    const r = await within(c.nonblockingProcess(null, (m) => (Buffer.from(m.data).toString() === 'foreign' ? 'retry' : 'commit')), 20_000, 'the call');
    assert.equal(r, { committed: 1, skipped: 1, retried: 1, stoppedBy: 'end' });
  } finally {
    await c.close();
  }
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const letters = [...d.iter()];
    assert.is(letters.length, 1);
    assert.is(Buffer.from(decodeDeadLetter(letters[0]!.data).data).toString(), 'foreign');
    assert.equal(letters[0]!.headers, { 'X-A': 'first, second, ', 'X-B': 'solo' });
  } finally {
    await d.close();
  }
});

runOrSkip(test, 'jetstream multi-value headers');
