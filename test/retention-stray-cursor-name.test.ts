/**
 * Under blockingMinimumRetention, retention is held back by the cursors a consumer can own, the ones
 * inspectLog lists and deleteCursor removes: a file in cursors/ whose name is no cursor's (a copy a
 * file manager made, "client.billing copy.cursor") held the producer back for good, unseen by
 * inspectLog and beyond deleteCursor.
 */
import * as assert from 'uvu/assert';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, SyncPolicy, deleteCursor, inspectLog } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('retention-stray-cursor-name');

test('a file in cursors/ named like no cursor does not hold retention back', async () => {
  const logDir = tempDir();
  const p = await Producer.open({
    logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 4096, maxTotalBytes: 16384,
    blockingMinimumRetention: 0, appendTimeoutMs: 200, ringBytes: 65536, maxBatchBytes: 1024,
  });
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
    await c.close();
    copyFileSync(join(logDir, 'cursors', 'client.billing.cursor'), join(logDir, 'cursors', 'client.billing copy.cursor'));
    await deleteCursor(logDir, 'billing');
    assert.equal((await inspectLog(logDir)).cursors, [], 'inspectLog lists no cursor');
    let appended = 0;
    for (; appended < 2000; appended++) p.append(`record-${appended}-${'r'.repeat(60)}`);
    await p.flush();
    await waitFor(() => p.logStartOffset > 0, 'retention to delete the oldest segments');
    assert.is(p.durableOffset, 2000);
  } finally {
    await p.close();
  }
});

test.run();
