/**
 * A dead letter keeps the record's key and headers: the dead-letter log's record carries them as the
 * original did, from a consumer's own loop and from a pool.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, Whence, decodeDeadLetter, type Message } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { handler } from './pool-kit.js';

const test = suite('dead-letter-attributes');

/** A log of rec-0, fail-1 (key k1, headers), fail-2 (headers only), fail-3 (key only), fail-4 (neither), rec-5. */
async function logWithAttributes(): Promise<string> {
  const logDir = join(tempDir(), 'log');
  const p = await Producer.open({ logDir });
  p.append('rec-0', { key: 'k0' });
  p.append('fail-1', { key: 'k1', headers: { type: 'order', 'trace-id': 'abc' } });
  p.append('fail-2', { headers: { only: 'headers' } });
  p.append('fail-3', { key: new Uint8Array([0, 255, 7]) });
  p.append('fail-4');
  p.append('rec-5');
  await p.close();
  return logDir;
}

async function deadLetters(dir: string): Promise<Message[]> {
  const dl = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const out = [...dl.iter()];
  await dl.close();
  return out;
}

function check(letters: Message[]): void {
  assert.equal(letters.map((m) => decodeDeadLetter(m.data).offset), [1, 2, 3, 4]);
  assert.equal(letters.map((m) => Buffer.from(decodeDeadLetter(m.data).data).toString()), ['fail-1', 'fail-2', 'fail-3', 'fail-4']);
  assert.equal(Buffer.from(letters[0]!.key!).toString(), 'k1');
  assert.equal(letters[0]!.headers, { type: 'order', 'trace-id': 'abc' });
  assert.equal(Object.keys(letters[0]!.headers!), ['type', 'trace-id'], 'header order kept');
  assert.is(letters[1]!.key, null);
  assert.equal(letters[1]!.headers, { only: 'headers' });
  assert.equal([...letters[2]!.key!], [0, 255, 7]);
  assert.is(letters[2]!.headers, null);
  assert.is(letters[3]!.key, null);
  assert.is(letters[3]!.headers, null);
}

test('a dead letter from the consumer loop keeps the key and headers', async () => {
  const logDir = await logWithAttributes();
  const deadLetterDir = join(tempDir(), 'dlq');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('dla'), retry: { maxAttempts: 2, deadLetterDir } });
  const s = await c.nonblockingProcess(null, (m) => (Buffer.from(m.data).toString().startsWith('fail-') ? 'retry' : 'commit'));
  assert.equal(s, { committed: 2, skipped: 4, retried: 8, stoppedBy: 'end' });
  await c.close();
  check(await deadLetters(deadLetterDir));
});

test('a dead letter from a pool keeps the key and headers', async () => {
  const logDir = await logWithAttributes();
  const deadLetterDir = join(tempDir(), 'dlq');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('dlp'), retry: { maxAttempts: 2, deadLetterDir } });
  const s = await c.nonblockingProcess(null, handler, { workers: 2, batchRecords: 2 });
  assert.equal(s, { committed: 2, skipped: 4, retried: 8, stoppedBy: 'end' });
  await c.close();
  check(await deadLetters(deadLetterDir));
});

test.run();
