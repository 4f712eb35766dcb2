/**
 * A segment's size that cannot be read (fstat fails) while inspectLog or consumer.lag() reads frame
 * headers: the call fails with ERR_IO and leaves no file descriptor open. consumer.lag() runs once a
 * second under lagThreshold: a descriptor left per failed check would pile up while the fault lasts.
 */
import * as assert from 'uvu/assert';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, inspectLog } from '../dist/index.js';
import { clearFaults, readTrace, setFaults } from './faults.js';
import { logOf, rejectsWith, suite, tempDir, throwsWith } from './kit.js';

const test = suite('inspect-fsize-fd');

const fdCount = (): number => readdirSync('/proc/self/fd').length;

test('fstat of a segment fails: inspectLog and consumer.lag() reject with ERR_IO and close what they opened', async () => {
  const texts = Array.from({ length: 200 }, (_, i) => `record ${i} ${'x'.repeat(30)}`);
  const logDir = await logOf(texts, { fileRollSize: 1024, flushAfter: (i: number) => i % 5 === 4 });
  const arm = join(tempDir(), 'arm');
  const trace = join(tempDir(), 'trace');
  // The segments' sizes, in this thread, once armed: the reads of segment and frame headers.
  setFaults({ rules: [{ op: 'fsize', thread: 'main', nth: 1, persistent: true, effect: { errno: 'EIO' } }], arm, trace });
  let c: Consumer | null = null;
  try {
    c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('watched') });
    assert.ok(c.lag().records > 0, 'the lag before the fault');
    const before = fdCount();
    writeFileSync(arm, '');
    for (let i = 0; i < 5; i++) throwsWith(() => c!.lag(), 'ERR_IO');
    for (let i = 0; i < 5; i++) await rejectsWith(inspectLog(logDir), 'ERR_IO');
    assert.ok(readTrace(trace).filter((l) => l.fired).length >= 10, 'the fault fired');
    assert.is(fdCount(), before, 'no descriptor left open by the failed calls');
  } finally {
    clearFaults();
    await c?.close();
  }
});

test.run();
