/**
 * A relative retry.deadLetterDir means the directory it names when Consumer.open is called: a
 * process.chdir() between the open and the first dead letter does not move the dead-letter log (as
 * it moves neither the log read nor the default dead-letter log, both fixed at the open).
 */
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence, decodeDeadLetter } from '../dist/index.js';
import { suite, logOf, tempDir } from './kit.js';

const test = suite('dead-letter-dir-relative');

test('a relative deadLetterDir is resolved at the open: a later chdir does not move the dead letters', async () => {
  const logDir = await logOf(['poison']);
  const home = tempDir();
  const elsewhere = tempDir();
  mkdirSync(join(home, 'sub'));
  const cwd = process.cwd();
  process.chdir(home);
  let c: Consumer | null = null;
  try {
    c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('dlrel'), retry: { maxAttempts: 1, deadLetterDir: 'sub/dl' } });
    process.chdir(elsewhere);
    const s = await c.nonblockingProcess(null, () => 'retry');
    assert.is(s.skipped, 1, 'the record went to the dead-letter log');
    assert.not.ok(existsSync(join(elsewhere, 'sub')), `the dead-letter log was made under the new working directory ${elsewhere}`);
    assert.ok(existsSync(join(home, 'sub', 'dl')), 'the dead-letter log is where the path named at the open');
    const dead = await Consumer.open({ logDir: join(home, 'sub', 'dl'), style: ConsumerStyle.nonTx(Whence.oldest()) });
    try {
      const got = [...dead.iter()].map((m) => decodeDeadLetter(m.data));
      assert.equal(got.map((d) => [d.offset, Buffer.from(d.data).toString()]), [[0, 'poison']]);
    } finally {
      await dead.close();
    }
  } finally {
    process.chdir(cwd);
    await (c as Consumer | null)?.close();
  }
});

test.run();
