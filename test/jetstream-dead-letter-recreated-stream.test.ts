/**
 * Dead letters of a stream deleted and created again under its name: the new stream's offsets start
 * over, so its record 0 is not the old stream's record 0. A globalTx consumer that goes on at the new
 * stream's oldest record (onPositionExpired 'oldest') and dead-letters a record of the new stream at an
 * offset the old stream's records were dead-lettered at writes that dead letter: the dead-letter log's
 * dedup window (one dead letter per record of a transactional cursor) must not take it for a repeat
 * of the old stream's, which would skip the record with no dead letter at all. Skipped with a printed
 * reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, Whence, decodeDeadLetter } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within, type NatsServer } from './nats-kit.js';

const test = suite('jetstream dead letter recreated stream');
let server: NatsServer;
const dirs: string[] = [];
test.before(async () => { server = await startNats(); });
test.after(async () => {
  await stopAllNats();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function deadLetters(dir: string): Promise<string[]> {
  const d = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...d.iter()].map((m) => { const l = decodeDeadLetter(m.data); return `${l.offset}:${Buffer.from(l.data).toString()}`; });
  } finally {
    await d.close();
  }
}

test('a record of the new stream at an offset dead-lettered on the old one gets its own dead letter', async () => {
  const out = tempDir('rlog-js-dl-recreated-');
  dirs.push(out);
  const deadLetterDir = join(out, 'dl');
  const stream = `dl-recreated-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 3_000, timeoutMs: 5_000 });
  const run = async (texts: string[]): Promise<unknown> => {
    const p = await Producer.open({ backend });
    for (const t of texts) p.append(t);
    await p.close();
    const c = await Consumer.open({ backend, style: ConsumerStyle.globalTx(), onPositionExpired: 'oldest', retry: { maxAttempts: 1, deadLetterDir } });
    try {
      return await within(c.nonblockingProcess(null, (m) => (Buffer.from(m.data).toString().startsWith('bad') ? 'retry' : 'commit')), 20_000, 'the call');
    } finally {
      await c.close();
    }
  };
  assert.equal(await run(['bad-old-0', 'ok-old-1']), { committed: 1, skipped: 1, retried: 1, stoppedBy: 'end' });
  const nc = await connect({ servers: server.url });
  try {
    await (await jetstreamManager(nc)).streams.delete(stream);
  } finally {
    await nc.close();
  }
  assert.equal(await run(['bad-new-0', 'ok-new-1']), { committed: 1, skipped: 1, retried: 1, stoppedBy: 'end' });
  assert.equal(await deadLetters(deadLetterDir), ['0:bad-old-0', '0:bad-new-0'], 'each stream\'s record 0 has its dead letter');
});

runOrSkip(test, 'jetstream dead letter recreated stream');
