/**
 * Dead letters of records a plain NATS client published into the stream with headers the local
 * record format cannot carry (more than 255 of them, a name over 255 bytes): the dead-letter log is
 * local, so the dead letter must still be written, with the headers it can carry as its own and the
 * rest in its JSON header (`extraHeaders`), and the record completed. Before, writing the dead letter
 * failed with ERR_RECORD_TOO_LARGE, the record was never completed, and every run stopped at it.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream as natsJetstream } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, Whence, decodeDeadLetter, type Message } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream dead letter foreign headers');
let server: NatsServer;
const dirs: string[] = [];
test.before(async () => { server = await startNats(); });
test.after(async () => {
  await stopAllNats();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function deadLetters(dir: string): Promise<Message[]> {
  const d = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...d.iter()];
  } finally {
    await d.close();
  }
}

/**
 * A stream of 'ok-0', then 'bad' published by nats.js with `pairs` as its headers, then 'ok-2'; a
 * clientTx consumer that dead-letters 'bad' on its first attempt. Returns the dead-letter log's records.
 */
async function deadLetterOf(name: string, pairs: ReadonlyArray<readonly [string, string]>): Promise<Message[]> {
  const out = tempDir('rlog-js-dl-foreign-');
  dirs.push(out);
  const deadLetterDir = join(out, 'dl');
  const stream = `dl-foreign-${name}-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 3_000, timeoutMs: 5_000 });
  const p = await Producer.open({ backend });
  p.append('ok-0');
  await p.close();
  const nc = await connect({ servers: server.url });
  try {
    const h = natsHeaders();
    for (const [k, v] of pairs) h.set(k, v);
    await natsJetstream(nc).publish(`rl.${stream}`, 'bad', { headers: h });
  } finally {
    await nc.close();
  }
  const p2 = await Producer.open({ backend });
  p2.append('ok-2');
  await p2.close();
  const run = async (): Promise<unknown> => {
    const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('dlf'), retry: { maxAttempts: 1, deadLetterDir } });
    try {
      return await within(c.nonblockingProcess(null, (m) => (Buffer.from(m.data).toString() === 'bad' ? 'retry' : 'commit')), 20_000, 'the call');
    } finally {
      await c.close();
    }
  };
  assert.equal(await run(), { committed: 2, skipped: 1, retried: 1, stoppedBy: 'end' }, 'the record is dead-lettered and completed');
  assert.equal(await run(), { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' }, 'the next run does not stop at it');
  return deadLetters(deadLetterDir);
}

test('a record with 300 headers: 255 carried as the dead letter\'s own, the rest in its header', async () => {
  const pairs = Array.from({ length: 300 }, (_, i) => [`X-H${i}`, `v${i}`] as const);
  const letters = await deadLetterOf('many', pairs);
  assert.is(letters.length, 1);
  const letter = decodeDeadLetter(letters[0]!.data);
  assert.is(letter.offset, 1);
  assert.is(Buffer.from(letter.data).toString(), 'bad');
  assert.is(letter.attempts, 1);
  assert.equal(letters[0]!.headers, Object.fromEntries(pairs.slice(0, 255)));
  assert.equal(letter.extraHeaders, Object.fromEntries(pairs.slice(255)));
  assert.equal({ ...letters[0]!.headers, ...letter.extraHeaders }, Object.fromEntries(pairs), 'every header is kept');
});

test('a record with a header name of 302 bytes: that header in the dead letter\'s header, the others its own', async () => {
  const long = `X-${'n'.repeat(300)}`;
  const pairs = [['X-A', 'a'], [long, 'long'], ['X-B', 'b']] as const;
  const letters = await deadLetterOf('long-name', pairs);
  assert.is(letters.length, 1);
  const letter = decodeDeadLetter(letters[0]!.data);
  assert.is(Buffer.from(letter.data).toString(), 'bad');
  assert.equal(letters[0]!.headers, { 'X-A': 'a', 'X-B': 'b' });
  assert.equal(letter.extraHeaders, { [long]: 'long' });
});

test('a record whose headers all fit has no extraHeaders', async () => {
  const letters = await deadLetterOf('fits', [['X-A', 'a']]);
  const letter = decodeDeadLetter(letters[0]!.data);
  assert.equal(letters[0]!.headers, { 'X-A': 'a' });
  assert.is(letter.extraHeaders, null);
});

test('a pool: the worker gets all 300 headers, the record is dead-lettered, the next run goes on', async () => {
  const handler = fileURLToPath(new URL('./fixtures/js-pool-headers-handler.mjs', import.meta.url));
  const out = tempDir('rlog-js-dl-foreign-pool-');
  dirs.push(out);
  const deadLetterDir = join(out, 'dl');
  const stream = `dl-foreign-pool-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 3_000, timeoutMs: 5_000 });
  const p = await Producer.open({ backend });
  p.append('ok-0');
  await p.close();
  const pairs = Array.from({ length: 300 }, (_, i) => [`X-H${i}`, `v${i}`] as const);
  const nc = await connect({ servers: server.url });
  try {
    for (const text of ['ok-300', 'fail-300']) {
      const h = natsHeaders();
      for (const [k, v] of pairs) h.set(k, v);
      await natsJetstream(nc).publish(`rl.${stream}`, text, { headers: h });
    }
  } finally {
    await nc.close();
  }
  const p2 = await Producer.open({ backend });
  p2.append('ok-0');
  await p2.close();
  const run = async (): Promise<unknown> => {
    const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('dlfp'), retry: { maxAttempts: 1, deadLetterDir } });
    try {
      return await within(c.nonblockingProcess(null, handler, { workers: 1 }), 30_000, 'the call');
    } finally {
      await c.close();
    }
  };
  assert.equal(await run(), { committed: 3, skipped: 1, retried: 1, stoppedBy: 'end' });
  assert.equal(await run(), { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' });
  const letters = await deadLetters(deadLetterDir);
  assert.is(letters.length, 1);
  const letter = decodeDeadLetter(letters[0]!.data);
  assert.is(letter.offset, 2);
  assert.equal({ ...letters[0]!.headers, ...letter.extraHeaders }, Object.fromEntries(pairs));
});

runOrSkip(test, 'jetstream dead letter foreign headers');
