/**
 * consumer.lag() away from the producer's process reads the durable end from durable.offset, which the
 * writer rewrites in place: a read that meets that rewrite (here: a read that returns nothing) is read
 * again, as inspectLog does, instead of measuring no lag at all; a lagThreshold watch would otherwise
 * publish a false `above: false`, then `above: true` again a second later.
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { logOf, suite, tempDir } from './kit.js';
import { clearFaults, readTrace, setFaults } from './faults.js';

const test = suite('lag-hint-torn-read');

test('one read of durable.offset that meets its rewrite does not make consumer.lag() read zero', async () => {
  const logDir = await logOf(20);
  const armFile = join(tempDir(), 'arm');
  const trace = join(tempDir(), 'trace');
  setFaults({ rules: [{ op: 'read', path: 'durable\\.offset$', thread: 'main', nth: 1, effect: { short: 0 } }], arm: armFile, trace });
  let c: Consumer | null = null;
  try {
    c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('watched') });
    assert.is(c.lag().records, 20);
    writeFileSync(armFile, '');
    const lag = c.lag();
    assert.is(readTrace(trace).filter((l) => l.fired).length, 1, 'the torn read happened');
    assert.is(lag.records, 20, JSON.stringify(lag));
  } finally {
    clearFaults();
    await c?.close();
  }
});

test.run();
