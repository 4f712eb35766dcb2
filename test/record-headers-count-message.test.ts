/**
 * The error of a record with more headers than MAX_HEADERS says how many headers it has, not a
 * number of bytes: it read "record's headers of 300 bytes exceeds MAX_HEADERS (a count) (255)".
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Producer } from '../dist/index.js';
import { suite, tempDir, throwsWith } from './kit.js';

const test = suite('record-headers-count-message');

test('300 headers: ERR_RECORD_TOO_LARGE naming the count and the limit, nothing appended', async () => {
  const logDir = join(tempDir(), 'log');
  const p = await Producer.open({ logDir });
  try {
    const headers = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`h${i}`, 'v']));
    const e = throwsWith(() => p.append('x', { headers }), 'ERR_RECORD_TOO_LARGE');
    assert.is(e.message, 'record has 300 headers, more than MAX_HEADERS (255)');
    assert.is((e as { details?: { option?: string } }).details?.option, 'headers');
    assert.is(p.nextOffset, 0, 'nothing appended');
  } finally {
    await p.close();
  }
});

test.run();
