/**
 * A dead letter's lastError is cut after 65,536 UTF-16 units, with an ellipsis. A cut between the two
 * halves of a surrogate pair (an emoji, a character past U+FFFF) left a lone high surrogate in the
 * header: the dead letter read back a string that is not well-formed, which no UTF-8 text holds and
 * which a record's key or header refuses (ERR_INVALID_RECORD) when it is passed on.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence, decodeDeadLetter } from '../dist/index.js';
import { logOf, suite, tempDir } from './kit.js';

const test = suite('dead-letter-long-error');

async function lastErrorOf(thrown: string): Promise<string | null> {
  const logDir = await logOf(1);
  const deadLetterDir = join(tempDir(), 'dl');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('long'), retry: { maxAttempts: 1, deadLetterDir, retryOnThrow: true } });
  assert.equal(await c.nonblockingProcess(null, () => { throw new Error(thrown); }), { committed: 0, skipped: 1, retried: 1, stoppedBy: 'end' });
  await c.close();
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const letters = [...d.iter()];
    assert.is(letters.length, 1);
    return decodeDeadLetter(letters[0]!.data).lastError;
  } finally {
    await d.close();
  }
}

test('a cut inside a surrogate pair leaves the pair out, not half of it', async () => {
  const thrown = `a${'😀'.repeat(40_000)}`; // unit 65,535 is the high half of a pair
  const lastError = (await lastErrorOf(thrown))!;
  assert.ok(lastError.isWellFormed(), `the lastError ends in ${JSON.stringify(lastError.slice(-3))}`);
  assert.ok(lastError.endsWith('😀…'));
  assert.is(lastError.length, 65_535 + 1);
  assert.ok(thrown.startsWith(lastError.slice(0, -1)));
});

test('a cut between two pairs keeps 65,536 units', async () => {
  const lastError = (await lastErrorOf('😀'.repeat(40_000)))!;
  assert.ok(lastError.isWellFormed());
  assert.is(lastError.length, 65_536 + 1);
});

test.run();
