/**
 * repairLog on a log holding a segment of a newer format than this reactive-log reads refuses with
 * ERR_UNSUPPORTED_FORMAT and changes nothing, as Producer.open does (docs/format.md: such a segment is
 * never taken for damage), also when damage in an older segment comes first: the cut there removed
 * the newer reactive-log's segments as well, in a dry run too it planned so.
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLogError, repairLog } from '../dist/index.js';
import { digestDir, logOf, suite, tempDir } from './kit.js';
import { segmentFiles, setSegmentVersion } from './read-kit.js';

const test = suite('repair-newer-format');

for (const dryRun of [false, true]) {
  test(`damage in a segment before the newest, which is of format 3${dryRun ? ' (dry run)' : ''}: refused, nothing changed`, async () => {
    const logDir = await logOf(100, { fileRollSize: 1024, flushAfter: (i: number) => i % 2 === 1 });
    const segs = segmentFiles(logDir);
    assert.ok(segs.length >= 3, `${segs.length} segments`);
    setSegmentVersion(join(logDir, segs.at(-1)!), 3);
    const b = readFileSync(join(logDir, segs[0]!));
    b[Math.floor(b.length / 2)] ^= 0xff;
    writeFileSync(join(logDir, segs[0]!), b);
    const before = digestDir(logDir);
    let caught: unknown = null;
    try {
      await repairLog(logDir, { dryRun, backupDir: join(tempDir(), 'backup') });
    } catch (e) {
      caught = e;
    }
    assert.ok(isLogError(caught) && caught.code === 'ERR_UNSUPPORTED_FORMAT', `refused with ERR_UNSUPPORTED_FORMAT, got ${String(caught)}`);
    assert.is(digestDir(logDir), before);
  });
}

test.run();
