/**
 * verifyLog reports a frame stamped earlier than the frame before it (its checksum holding: written
 * so) as a 'time' warning, within a segment and across a roll, and nothing on a log whose time never
 * steps back.
 */
import * as assert from 'uvu/assert';
import { verifyLog } from '../dist/index.js';
import { logOf, suite } from './kit.js';
import { framesOf, restamp } from './reader-kit.js';

const test = suite('verify-time-back');

const timeFindings = async (logDir: string) => (await verifyLog(logDir)).findings.filter((x) => x.kind === 'time');

test('a log whose time never steps back: no time finding', async () => {
  const logDir = await logOf(40, { flushAfter: () => true, fileRollSize: 1024 });
  assert.ok(new Set(framesOf(logDir).map((f) => f.path)).size >= 2, 'the log rolled');
  assert.equal(await timeFindings(logDir), []);
});

test('a frame stamped before the one before it, in a segment and at the first frame after a roll', async () => {
  const logDir = await logOf(40, { flushAfter: () => true, fileRollSize: 1024 });
  const frames = framesOf(logDir);
  // The first frame of the second segment, and a frame in the middle of the first one.
  const firstOfSecond = frames.findIndex((f) => f.path !== frames[0]!.path);
  assert.ok(firstOfSecond >= 3, `the first segment holds several frames (${firstOfSecond})`);
  restamp(logDir, 2, frames[1]!.h.timestampMs - 5_000);
  restamp(logDir, firstOfSecond, frames[firstOfSecond - 1]!.h.timestampMs - 60_000);
  const found = await timeFindings(logDir);
  assert.is(found.length, 2, JSON.stringify(found));
  assert.equal(found.map((x) => [x.severity, x.offset]), [['warning', frames[2]!.h.baseOffset], ['warning', frames[firstOfSecond]!.h.baseOffset]]);
  assert.match(found[0]!.message, /5000 ms before the frame before it/);
  assert.is((await verifyLog(logDir)).ok, true, 'a warning: the frames are whole');
});

test.run();
