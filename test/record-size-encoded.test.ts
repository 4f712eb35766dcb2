/**
 * What counts against maxRecordBytes, as README.md and docs/format.md say: the record's payload, its
 * data plus the attribute block that encodes its key, headers and dedup key (1 byte of attribute
 * bits, 2 length bytes per key and dedup key, 1 count byte and 3 length bytes per header), not only
 * the bytes of the data, key and headers themselves. A record whose data, key and headers add up to
 * exactly maxRecordBytes is refused; the error names the encoded size.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { suite, tempDir, throwsWith } from './kit.js';

const test = suite('record-size-encoded');

test('the key and header encoding counts: data + key + headers = maxRecordBytes is refused, the encoded size fits', async () => {
  const p = await Producer.open({ logDir: tempDir(), maxRecordBytes: 64 });
  // 60 bytes of data, a key of 2 bytes, one header of 1 + 1 bytes: 64 bytes of content, 71 encoded
  // (1 attribute byte, 2 + 2 for the key, 1 count byte, 1 + 1 + 2 + 1 for the header).
  const e = throwsWith(() => p.append('x'.repeat(60), { key: 'kk', headers: { h: 'v' } }), 'ERR_RECORD_TOO_LARGE');
  assert.match(e.message, /71 bytes/);
  assert.is(p.nextOffset, 0, 'nothing appended');
  assert.is(p.append('x'.repeat(53), { key: 'kk', headers: { h: 'v' } }), 0, '53 + 11 encoded bytes = 64 fits');
  throwsWith(() => p.append('x'.repeat(54), { key: 'kk', headers: { h: 'v' } }), 'ERR_RECORD_TOO_LARGE');
  await p.close();
});

test('a dedup key counts as well (1 attribute byte, 2 length bytes and the key)', async () => {
  const p = await Producer.open({ logDir: tempDir(), maxRecordBytes: 64, dedupWindow: { records: 10 } });
  throwsWith(() => p.append('x'.repeat(61), { dedupKey: 'd' }), 'ERR_RECORD_TOO_LARGE');
  assert.is(p.append('x'.repeat(60), { dedupKey: 'd' }), 0);
  await p.close();
});

test.run();
