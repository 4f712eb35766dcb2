/**
 * A newest segment whose header is not whole: when durable.offset names records from its base on, the
 * consumer, readLogBounds (inspectLog) and `dump` report ERR_LOG_CORRUPT instead of ending the log at
 * that base; when it names none (a roll a crash left unfinished), the log ends at that base without error.
 */
import * as assert from 'uvu/assert';
import { statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Whence, inspectLog } from '../dist/index.js';
import { liveLogOf, logOf, suite } from './kit.js';
import { iterOutcome, segmentFiles } from './read-kit.js';
import { cli } from './cli-kit.js';

const test = suite('reader-short-newest-header');

async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return (e as { code: string }).code;
  }
}

/**
 * A closed log of 50 records or more whose newest segment holds records. The writer rolls after the frame
 * that reaches fileRollSize, so how it grouped the records decides whether the newest segment is only a
 * header; one more record at a time until it is not.
 */
async function logWithRecordsInNewest(): Promise<string> {
  const { logDir, p } = await liveLogOf(50, { fileRollSize: 1024, flushAfter: (i: number) => i % 2 === 1 });
  for (let n = 50; statSync(join(logDir, segmentFiles(logDir).at(-1)!)).size <= 32; n++) {
    assert.ok(n < 100, 'the newest segment stays empty');
    p.append(`rec-${n}`);
    await p.flush();
  }
  await p.close();
  return logDir;
}

for (const size of [0, 20]) {
  test(`newest segment cut to ${size} bytes below durable.offset: ERR_LOG_CORRUPT`, async () => {
    const logDir = await logWithRecordsInNewest();
    const last = segmentFiles(logDir).at(-1)!;
    const base = Number(last.slice(0, 20));
    assert.ok(base > 0, 'the log has rolled');
    truncateSync(join(logDir, last), size);

    assert.is(await iterOutcome(logDir), 'ERR_LOG_CORRUPT');
    assert.is(await iterOutcome(logDir, Whence.position(base)), 'ERR_LOG_CORRUPT');
    assert.is(await errorCode(inspectLog(logDir)), 'ERR_LOG_CORRUPT');
    const dump = cli('dump', logDir);
    assert.is.not(dump.status, 0);
    assert.match(dump.stderr, /ERR_LOG_CORRUPT/);
    assert.match(dump.stderr, /reported durable/);
  });
}

test('a newest segment with a short header and no record reported durable from its base ends the log there', async () => {
  const logDir = await logOf(50, { fileRollSize: 1024, flushAfter: (i: number) => i % 2 === 1 });
  writeFileSync(join(logDir, `${String(50).padStart(20, '0')}.seg`), Buffer.alloc(10));
  assert.is(await iterOutcome(logDir), '50 records');
  assert.is((await inspectLog(logDir)).nextOffset, 50);
  const dump = cli('dump', logDir);
  assert.is(dump.status, 0, dump.stderr);
  assert.is(dump.stdout.split('\n').length - 1, 50);
});

test.run();
