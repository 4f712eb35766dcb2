/**
 * Producer.attach checks the ring its token carries: a ring is a SharedArrayBuffer of ringBytes + 8
 * bytes (src/ring/ring-memory.ts: index 0 lies 4 bytes in), ringBytes a power of two from 64 KiB to
 * 1 GiB. A token whose ring is another buffer (the previous layout's ringBytes-long one, or any size
 * that is not a ring's) is refused with ERR_INVALID_OPTION, nothing appended: accepted, its handle's
 * appends went to memory the writer never reads, while the writer wrote the owner's ring's stale bytes
 * at those places (a 24-byte record came back as seven empty ones) and flush() resolved. A ring of
 * the right shape but another size than the owner's (2 x ringBytes + 8) is refused too: the control
 * block holds the ring's size (I32.RING_BYTES). A token's appendTimeoutMs outside what Producer.open
 * takes (a changed token) is refused too: accepted, -5 or 1e15 bounded that handle's waits by nothing.
 */
import * as assert from 'uvu/assert';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { readRecords, suite, tempDir, throwsWith } from './kit.js';

const test = suite('attach-token-ring');

test('a token whose ring is not a ring of this layout is refused, and the log is left as it was', async () => {
  const logDir = tempDir();
  const ringBytes = 64 * 1024;
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), ringBytes });
  const token = p.share();
  try {
    for (const bytes of [ringBytes, ringBytes + 16, ringBytes / 2 + 8, 16, 9, 2 * ringBytes + 8]) {
      const err = throwsWith(() => {
        const h = Producer.attach({ ...token, ring: new SharedArrayBuffer(bytes) });
        h.append('hello from a ring the writer never reads');
      }, ErrorCode.INVALID_OPTION);
      assert.match(err.message, /ring/, `a ring of ${bytes} bytes: ${err.message}`);
    }
    // Its maxRecordBytes must fit its ring, as the option's must (ringBytes - 16).
    throwsWith(() => Producer.attach({ ...token, maxRecordBytes: ringBytes - 15 }), ErrorCode.INVALID_OPTION);
    // Its appendTimeoutMs must be one Producer.open takes (0 to an hour): it bounds the handle's waits.
    for (const appendTimeoutMs of [-5, 3_600_001, 1e15]) throwsWith(() => Producer.attach({ ...token, appendTimeoutMs }), ErrorCode.INVALID_OPTION);
    const h = Producer.attach(token);
    assert.is(h.append('a real one'), 0);
    await h.flush();
    await h.close();
  } finally {
    await p.close();
  }
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['a real one']);
});

test.run();
