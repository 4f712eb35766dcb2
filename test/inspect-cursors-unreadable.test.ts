/**
 * inspectLog when the cursors folder cannot be listed (an I/O error): it rejects with ERR_IO naming
 * the folder, as `cursor list` and `info` then fail with exit code 1. It never reports "no cursors"
 * for cursors it could not see; a log without a cursors folder has none.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { Consumer, ConsumerStyle, inspectLog } from '../dist/index.js';
import { CLI } from './cli-kit.js';
import { FAULT_IO, withFaults, type FaultPlan } from './faults.js';
import { logOf, rejectsWith, suite } from './kit.js';

const test = suite('inspect-cursors-unreadable');

const plan: FaultPlan = { rules: [{ op: 'readdir', path: '/cursors$', thread: 'main', nth: 1, persistent: true, effect: { errno: 'EIO' } }] };

test('EIO listing cursors/: inspectLog rejects with ERR_IO, info and cursor list exit 1', async () => {
  const logDir = await logOf(20);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.close();
  assert.equal((await inspectLog(logDir)).cursors.map((x) => x.id), ['billing']);
  const err = await withFaults(plan, () => rejectsWith(inspectLog(logDir), 'ERR_IO'));
  assert.match(err.message, /cursors/);
  for (const args of [['info', logDir], ['cursor', 'list', logDir]]) {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      encoding: 'utf8', timeout: 60_000, env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: FAULT_IO, REACTIVE_LOG_FAULTS: JSON.stringify(plan) },
    });
    assert.is(r.status, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /ERR_IO/);
  }
});

test('a log without a cursors folder: no cursors', async () => {
  const logDir = await logOf(5);
  assert.equal((await inspectLog(logDir)).cursors, []);
});

test.run();
