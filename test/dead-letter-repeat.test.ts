/**
 * A crash between a dead letter's fsync and the cursor's commit: the record comes again after the
 * restart and fails again, and its dead letter is not written a second time (the dead-letter log
 * holds one per record of a transactional cursor). The child kills itself with SIGKILL as its first
 * dead letter is reported, once with a handler function and once with a worker pool.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, Whence, decodeDeadLetter } from '../dist/index.js';
import { suite, logOf, tempDir } from './kit.js';
import { Child, killAllChildren } from './child.js';

const test = suite('dead-letter-repeat');
test.after.each(() => killAllChildren());

async function deadLetterOffsets(deadLetterDir: string): Promise<number[]> {
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...d.iter()].map((m) => decodeDeadLetter(m.data).offset);
  } finally {
    await d.close();
  }
}

/** Three records with keys and headers (the dedup key digests them too): the same digest from a pool's read and a handler function's. */
async function logWithAttributes(): Promise<string> {
  const logDir = join(tempDir(), 'log');
  const p = await Producer.open({ logDir });
  for (let i = 0; i < 3; i++) p.append(`r${i}`, { key: `k${i}`, headers: { type: `t-é-${i}`, '1': 'one', z: '"\\\u2028' } });
  await p.close();
  return logDir;
}

for (const [pool, attrs] of [[false, false], [true, false], [false, true], [true, true]] as const) {
  test(`SIGKILL after the dead letter, before the commit: one dead letter per record (${pool ? 'pool' : 'handler function'}${attrs ? ', records with key and headers' : ''})`, async () => {
    const logDir = attrs ? await logWithAttributes() : await logOf(3);
    const deadLetterDir = join(tempDir(), 'dl');
    const child = Child.fork('dead-letter-kill.mjs', [JSON.stringify({ logDir, deadLetterDir, pool })]);
    await child.next('open');
    await child.exited;
    assert.is(child.exitInfo?.signal, 'SIGKILL', `the child killed itself at its first dead letter: ${child.stderr}`);
    assert.equal(await deadLetterOffsets(deadLetterDir), [0], 'the first dead letter is durable');
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('dl-kill'), retry: { maxAttempts: 1, deadLetterDir } });
    assert.is(c.committedOffset, 0, 'the cursor did not move past the dead-lettered record');
    const s = await c.nonblockingProcess(null, () => 'retry');
    assert.is(s.skipped, 3);
    await c.close();
    assert.equal(await deadLetterOffsets(deadLetterDir), [0, 1, 2], 'record 0 is dead-lettered once');
  });
}

test.run();
