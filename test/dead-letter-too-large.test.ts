/**
 * A record too large for any dead letter: a local log takes records of up to 1 GiB - 16 bytes, and
 * a dead letter is its record plus a header, so the dead letter of a record within a few hundred
 * bytes of that size fits in no dead-letter log. The call fails with ERR_RECORD_TOO_LARGE naming the
 * record and the dead letter (it said "record of 1073741921 bytes exceeds maxRecordBytes
 * (1073741808)", a size no record of the source log has, after copying the record and opening the
 * dead-letter log with a 1 GiB ring), and the dead-letter directory is not made.
 *
 * Driven on the sink itself: a real record that large takes a minute and gigabytes to write and read
 * (the data here is an untouched allocation: its pages are never written).
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DeadLetterSink } from '../src/consumer/dead-letter.js';
import { suite, tempDir } from './kit.js';

const test = suite('dead-letter-too-large');
const GiB = 1024 * 1024 * 1024;

test('a dead letter past 1 GiB - 16 bytes: ERR_RECORD_TOO_LARGE naming the record, nothing made', async () => {
  const dir = join(tempDir(), 'dl');
  const sink = new DeadLetterSink(dir, '/logs/orders', 'client.big');
  const msg = { offset: 7, timestamp: 1_700_000_000_000, data: new Uint8Array(GiB - 16 - 64), key: null, headers: null };
  let err: (Error & { code?: string }) | null = null;
  try {
    await sink.put(msg, 3, new Error('boom'));
  } catch (e) {
    err = e as Error & { code?: string };
  } finally {
    await sink.close();
  }
  assert.ok(err !== null, 'the dead letter fails');
  assert.is(err.code, 'ERR_RECORD_TOO_LARGE');
  assert.match(err.message, /^the dead letter of record 7 of \/logs\/orders is \d+ bytes/);
  assert.match(err.message, /past the largest record a dead-letter log takes \(1073741808 bytes\)/);
  assert.is(existsSync(dir), false, 'the dead-letter directory is not made');
});

test.run();
