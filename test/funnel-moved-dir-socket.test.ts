/**
 * A log directory moved away under its open owner, and a new log opened at the old path with
 * acceptConnections: when the first owner closes (its close reports the directory gone), it removes
 * only its own socket file, not the new owner's at the path it once had. The new owner's clients
 * still connect. Before, the first owner's close unlinked `<path>/producer.sock` whatever it was,
 * and every Producer.connect to the new owner failed with ERR_LOG_CLOSED ("no producer accepts
 * connections") while it was open.
 */
import * as assert from 'uvu/assert';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Producer } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('funnel-moved-dir-socket');

test("an owner whose directory was moved away leaves the new owner's socket at its old path when it closes", async () => {
  const root = tempDir();
  const logDir = join(root, 'orders');
  const first = await Producer.open({ logDir, acceptConnections: true });
  renameSync(logDir, join(root, 'orders-moved'));
  const second = await Producer.open({ logDir, acceptConnections: true });
  try {
    await first.close().catch(() => undefined); // its directory is gone: ERR_LOG_CORRUPT, which is not the point here
    assert.ok(existsSync(join(logDir, 'producer.sock')), "the new owner's socket is still there");
    const remote = await Producer.connect({ logDir });
    assert.is(await remote.append('to the new owner'), 0);
    await remote.close();
  } finally {
    await second.close();
  }
  assert.not.ok(existsSync(join(logDir, 'producer.sock')), 'the new owner removes its own socket at close');
});

test.run();
