/**
 * producer.stats().rolls counts the rolls that happened, as reactive-log:roll announces them: a roll
 * whose new segment cannot be made (the file system refuses it) fails the writer, publishes no roll
 * event and counts no roll.
 */
import * as assert from 'uvu/assert';
import diagnosticsChannel from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { withFaults } from './faults.js';

const test = suite('stats-failed-roll');

test('a roll that fails making the new segment counts no roll and publishes none', async () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const rolls: unknown[] = [];
  const onRoll = (m: unknown): void => void rolls.push(m);
  diagnosticsChannel.subscribe('reactive-log:roll', onRoll);
  try {
    const p = await withFaults({ arm, rules: [{ op: 'open', path: '\\.seg\\.new$', thread: 'writer', nth: 1, persistent: true, effect: { errno: 'ENOSPC' } }] }, () =>
      Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024 }));
    writeFileSync(arm, ''); // the fault counts from here: after the open
    const keepAlive = setInterval(() => undefined, 1000);
    let err;
    try {
      for (let i = 0; i < 100 && p.error === null; i++) {
        p.append(`record ${i} ${'x'.repeat(60)}`);
        await p.flush().catch(() => undefined);
      }
      err = await p.failed;
    } finally {
      clearInterval(keepAlive);
    }
    assert.is(err.code, 'ERR_DISK_FULL', err.message);
    await p.close().catch(() => undefined);
    assert.is(rolls.length, 0, 'no roll happened');
    assert.is(p.stats().rolls, rolls.length, 'stats().rolls counts the rolls that happened');
  } finally {
    diagnosticsChannel.unsubscribe('reactive-log:roll', onRoll);
  }
});

test.run();
