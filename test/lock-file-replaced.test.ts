/**
 * A producer's close removes only the lock file it locked: when producer.lock was deleted by hand
 * while held and another producer has taken a new one since, the first producer's close leaves that
 * new file, and a third opener is refused while its holder runs.
 */
import * as assert from 'uvu/assert';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Producer } from '../dist/index.js';
import { rejectsWith, suite, tempDir } from './kit.js';

const test = suite('lock-file-replaced');

test("the first holder's close leaves the lock file of the one after it", async () => {
  const logDir = tempDir();
  const a = await Producer.open({ logDir });
  rmSync(join(logDir, 'producer.lock')); // by hand, while held: the limit docs/operations.md names
  const b = await Producer.open({ logDir });
  await a.close();
  assert.ok(existsSync(join(logDir, 'producer.lock')), "b's lock file is still there");
  await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_LOCKED');
  await b.close();
  assert.not.ok(existsSync(join(logDir, 'producer.lock')), 'b removes its own file at close');
});

test.run();
