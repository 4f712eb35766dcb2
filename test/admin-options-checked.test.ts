/**
 * repairLog, unlockLog and verifyLog check their options before anything is done: a misspelt key or a
 * value of the wrong type is ERR_INVALID_OPTION and leaves the log directory byte-identical, never a
 * real repair or a lock file removed where a dry run was asked for, a verify without the progress
 * asked for, nor a TypeError.
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { repairLog, unlockLog, verifyLog } from '../dist/index.js';
import { digestDir, rejectsWith, suite, tempDir } from './kit.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('admin-options-checked');

/** The repair kit's log with a byte flipped in the middle of its third segment: repair would cut it. */
async function damaged(): Promise<string> {
  const { logDir, segs } = await logWithCursor();
  const b = readFileSync(join(logDir, segs[2]!));
  b[Math.floor(b.length / 2)] ^= 0xff;
  writeFileSync(join(logDir, segs[2]!), b);
  return logDir;
}

test('repairLog: bad options are ERR_INVALID_OPTION, the log and the backup path untouched', async () => {
  const logDir = await damaged();
  const before = digestDir(logDir);
  const backupDir = join(tempDir(), 'backup');
  const bad: unknown[] = [null, 5, 'dry', { dryrun: true }, { dryRun: 'yes' }, { dryRun: 1 }, { onProgress: 5, backupDir }, { backupDir, extra: 1 }];
  for (const options of bad) {
    await rejectsWith(repairLog(logDir, options as never), 'ERR_INVALID_OPTION');
    assert.is(digestDir(logDir), before, `${JSON.stringify(options)}: the log is untouched`);
    assert.not.ok(existsSync(backupDir), `${JSON.stringify(options)}: no backup directory made`);
  }
  assert.ok((await repairLog(logDir, { dryRun: true })).cut !== null, 'still damaged: a dry run finds the cut');
});

test('unlockLog: bad options are ERR_INVALID_OPTION, a leftover lock file stays', async () => {
  const { logDir } = await logWithCursor();
  writeFileSync(join(logDir, 'producer.lock'), '');
  const before = digestDir(logDir);
  for (const options of [null, 5, { dryrun: true }, { dryRun: 'yes' }, { dryRun: 1 }] as unknown[]) {
    await rejectsWith(unlockLog(logDir, options as never), 'ERR_INVALID_OPTION');
    assert.is(digestDir(logDir), before, `${JSON.stringify(options)}: the lock file stays`);
  }
  assert.equal((await unlockLog(logDir, { dryRun: true })).map((r) => r.state), ['leftover']);
});

test('verifyLog: bad options are ERR_INVALID_OPTION, as for repairLog and unlockLog', async () => {
  const logDir = await damaged();
  const before = digestDir(logDir);
  let calls = 0;
  const progress = (): void => { calls++; };
  for (const options of [null, 5, 'fast', { onprogress: progress }, { onProgress: progress, dryRun: true }, { onProgress: 5 }] as unknown[]) {
    const got = await verifyLog(logDir, options as never).then((r) => `resolved, ok: ${r.ok}`, (e: Error & { code?: string }) => e.code ?? e.message);
    const what = options !== null && typeof options === 'object' ? `keys ${Object.keys(options).join(', ')}` : JSON.stringify(options);
    console.log(`verifyLog(${what}):`, got);
    assert.is(got, 'ERR_INVALID_OPTION', `${what}: refused`);
    assert.is(digestDir(logDir), before, `${what}: the log is untouched`);
  }
  assert.is(calls, 0, 'no progress reported by a refused call');
  assert.not.ok((await verifyLog(logDir, { onProgress: progress })).ok, 'still damaged');
  assert.ok(calls > 0, 'onProgress is called');
});

test.run();
