/**
 * A pool's record that exhausts its attempts after retention (without blockingMinimumRetention)
 * deleted its segment: its dead letter is still written, with the record's bytes, key, headers and
 * timestamp, as a handler function on the consumer's thread writes it from the record it holds. The
 * coordinator used to read the record back from the files for the dead letter, and the call failed with
 * ERR_POSITION_EXPIRED without one, for every consumer style that runs a pool.
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence, decodeDeadLetter, type Message } from '../dist/index.js';
import { POOL_LOG, guarded, handler } from './pool-kit.js';
import { liveLogOf, suite, tempDir, waitFor } from './kit.js';

const test = suite('pool-dead-letter-expired');

const FIRST_SEGMENT = '00000000000000000000.seg';

async function deadLetters(dir: string): Promise<Message[]> {
  const dl = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...dl.iter()];
  } finally {
    await dl.close();
  }
}

const styles = [
  ['clientTx', ConsumerStyle.clientTx('expired')],
  ['globalTx', ConsumerStyle.globalTx()],
  ['nonTx', ConsumerStyle.nonTx(Whence.oldest())],
] as const;

for (const [name, style] of styles) {
  test(`${name}: a pool's dead letter for a record whose segment retention deleted while it ran`, async () => {
    const { logDir, p } = await liveLogOf([], { ...POOL_LOG, fileRollSize: 1024, maxTotalBytes: 4096 });
    const deadLetterDir = join(tempDir(), 'dlq');
    p.append('expire-0', { key: 'k0', headers: { type: 'order' } });
    await p.flush();
    const timestamp = (await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) }).then(async (r) => {
      try { return r.iter().next().value as Message; } finally { await r.close(); }
    })).timestamp;
    const c = await Consumer.open({ logDir, style, retry: { maxAttempts: 1, deadLetterDir } });
    try {
      // Its failure is kept as a value: it may come while the test still appends.
      const call = guarded(c.nonblockingProcess(1, handler, { workers: 1 })).catch((e: unknown) => e);
      await waitFor(() => existsSync(join(logDir, 'expiring-0')), 'record 0 running');
      // Append until retention deletes the first segment (record 0's): the handler answers 'retry' then.
      await waitFor(async () => {
        for (let i = 0; i < 4; i++) p.append('x'.repeat(300));
        await p.flush();
        return !existsSync(join(logDir, FIRST_SEGMENT));
      }, 'retention to delete the first segment');
      const s = await call;
      assert.not.equal(s, 'stuck');
      assert.equal(s, { committed: 0, skipped: 1, retried: 1, stoppedBy: 'limit' });
    } finally {
      await c.close();
      await p.close();
    }
    const letters = await deadLetters(deadLetterDir);
    assert.is(letters.length, 1);
    const d = decodeDeadLetter(letters[0]!.data);
    assert.is(d.offset, 0);
    assert.is(d.attempts, 1);
    assert.is(d.timestamp, timestamp);
    assert.is(Buffer.from(d.data).toString(), 'expire-0');
    assert.is(Buffer.from(letters[0]!.key!).toString(), 'k0');
    assert.equal(letters[0]!.headers, { type: 'order' });
  });
}

test.run();
