/**
 * Where dead letters go: a retry.deadLetterDir that is the log being consumed, or lies inside it, is
 * refused with ERR_INVALID_OPTION (the call would read its own dead letters back without end); one
 * that is somebody else's directory (not empty, none of a log's files) is refused at the first dead
 * letter with ERR_INVALID_OPTION naming retry.deadLetterDir, nothing written there; the default
 * dead-letter log of logDir '.' is made next to the log directory, not inside it.
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Whence, verifyLog } from '../dist/index.js';
import { suite, digestDir, logOf, rejectsWith, readTexts, tempDir } from './kit.js';

const test = suite('dead-letter-dir');

test('a deadLetterDir that is the log directory, or inside it, is refused', async () => {
  const logDir = await logOf(2);
  let calls = 0;
  let opened: Consumer | null = null;
  try {
    await rejectsWith(async () => {
      opened = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()), retry: { maxAttempts: 1, deadLetterDir: logDir } });
      // Bounded here by 'break' at 20 calls; without it the call never returns.
      const s = await opened.nonblockingProcess(null, () => (++calls >= 20 ? 'break' : 'retry'));
      throw new Error(`accepted: nonblockingProcess over a 2-record log handled ${calls} records (${JSON.stringify(s)}); the log now holds ${(await readTexts(logDir)).length} records`);
    }, 'ERR_INVALID_OPTION');
    await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()), retry: { maxAttempts: 1, deadLetterDir: join(logDir, 'dl') } }), 'ERR_INVALID_OPTION');
    assert.is((await readTexts(logDir)).length, 2, 'the log is unchanged');
  } finally {
    await (opened as Consumer | null)?.close();
  }
});

test('a deadLetterDir that holds no log (not empty): the first dead letter fails with ERR_INVALID_OPTION naming retry.deadLetterDir, nothing written there or committed', async () => {
  const logDir = await logOf(2);
  const home = tempDir();
  writeFileSync(join(home, 'notes.txt'), 'mine');
  const before = digestDir(home);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('dl'), retry: { maxAttempts: 1, deadLetterDir: home } });
  try {
    const err = await rejectsWith(c.nonblockingProcess(null, () => 'retry'), 'ERR_INVALID_OPTION');
    assert.is((err as Error & { details?: { option?: string } }).details?.option, 'retry.deadLetterDir', err.message);
    assert.match(err.message, 'not a log directory');
    assert.is(c.committedOffset, 0, 'the record that found no dead-letter log is not committed');
  } finally {
    await c.close();
  }
  assert.is(digestDir(home), before);
});

test("logDir '.': the default dead-letter log is created next to the log, not inside it", async () => {
  const logDir = await logOf(2);
  const cwd = process.cwd();
  process.chdir(logDir);
  try {
    const c = await Consumer.open({ logDir: '.', style: ConsumerStyle.clientTx('q'), retry: { maxAttempts: 1 } });
    await c.nonblockingProcess(1, () => 'retry');
    await c.close();
  } finally {
    process.chdir(cwd);
  }
  const sibling = `${logDir}.dead-letter.client.q`;
  const made = existsSync(sibling);
  rmSync(sibling, { recursive: true, force: true });
  assert.ok(made, `the dead-letter log is next to the log: ${sibling}`);
  const report = await verifyLog(logDir);
  const foreign = readdirSync(logDir).filter((n) => n.includes('dead-letter'));
  assert.equal(foreign, [], `the dead-letter log was made inside the log directory: ${foreign.join(', ')}; verify: ${JSON.stringify(report.findings ?? report)}`);
});

test.run();
