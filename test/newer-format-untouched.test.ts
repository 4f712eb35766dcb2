/**
 * A log holding a segment of a newer format than this reactive-log reads is refused with
 * ERR_UNSUPPORTED_FORMAT, "nothing was changed": `repair` (and `repairLog`) and `demo` (and
 * `Producer.open`) left its files as they were, but created `producer.lock` and removed it again
 * before they looked at the segments, so the directory's modification time moved (and a crash in
 * between left a lock file in a log this version cannot open). They now look before they lock.
 */
import * as assert from 'uvu/assert';
import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, isLogError, repairLog } from '../dist/index.js';
import { digestDir, logOf, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';
import { segmentFiles, setSegmentVersion } from './read-kit.js';

const test = suite('newer-format-untouched');
test.after(killCliProcesses);

/** A log of several segments whose newest is of format 3, its directory's mtime set back to 2020. */
async function newerLog(): Promise<string> {
  const logDir = await logOf(60, { fileRollSize: 1024, flushAfter: (i: number) => i % 2 === 1 });
  const segs = segmentFiles(logDir);
  assert.ok(segs.length >= 2, `${segs.length} segments`);
  setSegmentVersion(join(logDir, segs.at(-1)!), 3);
  const old = new Date('2020-01-01T00:00:00Z');
  utimesSync(logDir, old, old);
  return logDir;
}

/** The directory's contents and its own mtime. */
function look(logDir: string): string {
  return `${digestDir(logDir)} ${statSync(logDir).mtimeMs}`;
}

test('repair (CLI) of a newer-format log: exit 1 with ERR_UNSUPPORTED_FORMAT, the directory untouched', async () => {
  const logDir = await newerLog();
  const before = look(logDir);
  const r = cli('repair', logDir, '--backup', join(logDir, '..', 'backup'));
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /\(ERR_UNSUPPORTED_FORMAT\)\n$/);
  assert.is(look(logDir), before);
});

test('repairLog of a newer-format log: ERR_UNSUPPORTED_FORMAT, the directory untouched', async () => {
  const logDir = await newerLog();
  const before = look(logDir);
  let caught: unknown = null;
  try {
    await repairLog(logDir);
  } catch (e) {
    caught = e;
  }
  assert.ok(isLogError(caught) && caught.code === 'ERR_UNSUPPORTED_FORMAT', String(caught));
  assert.is(look(logDir), before);
});

test('demo (CLI) and Producer.open on a newer-format log: ERR_UNSUPPORTED_FORMAT, the directory untouched', async () => {
  const logDir = await newerLog();
  const before = look(logDir);
  const r = cli('demo', '--dir', logDir, '--records', '1');
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /\(ERR_UNSUPPORTED_FORMAT\)\n$/);
  assert.is(look(logDir), before, 'demo');
  let caught: unknown = null;
  try {
    const p = await Producer.open({ logDir });
    await p.close();
  } catch (e) {
    caught = e;
  }
  assert.ok(isLogError(caught) && caught.code === 'ERR_UNSUPPORTED_FORMAT', String(caught));
  assert.is(look(logDir), before, 'Producer.open');
});

test.run();
