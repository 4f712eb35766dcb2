/**
 * The reactive-log:recovery payload is the subscriber's own: a subscriber that changes it (sorts or
 * trims `removed`, redacts `truncated`) leaves `producer.recovery` as recovery reported it.
 */
import * as assert from 'uvu/assert';
import diagnosticsChannel from 'node:diagnostics_channel';
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { logOf, suite } from './kit.js';

const test = suite('recovery-event-copy');

test('a subscriber that changes the recovery event leaves producer.recovery as recovery reported it', async () => {
  const logDir = await logOf(20);
  const seg = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort().at(-1)!;
  appendFileSync(join(logDir, seg), Buffer.alloc(40, 0xab)); // a torn tail: recovery cuts it
  writeFileSync(join(logDir, `${'9'.padStart(20, '0')}.idx`), ''); // an index without its segment: recovery removes it
  const onRecovery = (m: unknown): void => {
    const e = m as { removed: string[]; truncated: { bytes: number; reason: string } | null };
    e.removed.length = 0;
    if (e.truncated !== null) e.truncated.bytes = -1;
  };
  diagnosticsChannel.subscribe('reactive-log:recovery', onRecovery);
  let p: Producer;
  try {
    p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  } finally {
    diagnosticsChannel.unsubscribe('reactive-log:recovery', onRecovery);
  }
  assert.ok(p.recovery.truncated !== null, 'the torn tail was cut');
  assert.is(p.recovery.truncated.bytes, 40);
  assert.equal(p.recovery.removed.length, 1, JSON.stringify(p.recovery.removed));
  await p.close();
});

test.run();
