/**
 * The only segment of a log holds no whole header (a torn in-place header rewrite, or damage) and its
 * base is above 0 (retention deleted the segments before it): recovery starts it again empty at the
 * same base. A recovery that fails while it does so (a full disk, an I/O error at the write, fsync or
 * rename of the new file, a kill) must leave a log the next open recovers, not one without any segment,
 * which recovery refuses (start.offset and durable.offset name its base).
 */
import * as assert from 'uvu/assert';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer } from '../dist/index.js';
import { encodeDurableHint } from '../src/storage/durable-hint.js';
import { rejectsWith, suite, tempDir } from './kit.js';
import { withFaults, type FaultOp } from './faults.js';

const test = suite('recovery-only-torn-segment-failure');
const BASE = 500;
const SEG = `${String(BASE).padStart(20, '0')}.seg`;

/** A log whose only segment, at BASE, has a torn header; start.offset and durable.offset name BASE. */
function tornOnlySegment(): string {
  const logDir = tempDir();
  writeFileSync(join(logDir, SEG), Buffer.from('RLOG torn'));
  writeFileSync(join(logDir, 'start.offset'), encodeDurableHint(BASE));
  writeFileSync(join(logDir, 'durable.offset'), encodeDurableHint(BASE));
  return logDir;
}

for (const [op, path, errno] of [
  ['writev', '\\.seg\\.new$', 'ENOSPC'],
  ['fdatasync', '\\.seg\\.new$', 'EIO'],
  ['rename', '\\.seg\\.new$', 'EIO'],
] as Array<[FaultOp, string, string]>) {
  test(`${op} of the new segment fails (${errno}): the open is refused, the next one recovers the log at ${BASE}`, async () => {
    const logDir = tornOnlySegment();
    await withFaults({ rules: [{ op, path, thread: 'writer', nth: 1, effect: { errno } }] }, async () => {
      await rejectsWith(Producer.open({ logDir }), errno === 'ENOSPC' ? 'ERR_DISK_FULL' : 'ERR_IO');
    });
    assert.ok(readdirSync(logDir).includes(SEG), `a segment is still there: ${readdirSync(logDir).join(', ')}`);
    const p = await Producer.open({ logDir });
    assert.is(p.nextOffset, BASE);
    assert.is(p.logStartOffset, BASE);
    p.append('after');
    await p.flush();
    await p.close();
  });
}

test.run();
