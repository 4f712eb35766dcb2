/**
 * A process whose Error.stackTraceLimit cannot be assigned (`node --frozen-intrinsics`, SES
 * lockdown, `Object.freeze(Error)`): the funnel owner makes the errors of a client's refused records
 * without a stack by setting the limit to 0 around a batch. Where that assignment throws (strict
 * mode), every remote append failed; the owner now appends the batch with the limit as it is.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { readRecords, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('funnel-frozen-stack-limit');

test('remote appends go in where Error.stackTraceLimit is read-only; a refused record still gets its error', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, acceptConnections: true, maxRecordBytes: 1024 });
  const before = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')!;
  Object.defineProperty(Error, 'stackTraceLimit', { value: before.value, writable: false, configurable: true, enumerable: before.enumerable });
  try {
    const remote = await Producer.connect({ logDir });
    try {
      assert.is(await remote.append('r0'), 0);
      assert.is(await remote.append('r1', { key: 'k' }), 1);
      await rejectsWith(remote.append('r2', { key: 'k'.repeat(2000) }), 'ERR_RECORD_TOO_LARGE');
      assert.is(await remote.append('r3'), 2);
      await remote.flush();
    } finally {
      await remote.close();
    }
    assert.is(Error.stackTraceLimit, before.value, 'the limit as it was');
  } finally {
    Object.defineProperty(Error, 'stackTraceLimit', before);
    await p.close();
  }
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['r0', 'r1', 'r3']);
});

test.run();
