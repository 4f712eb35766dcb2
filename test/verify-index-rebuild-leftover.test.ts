/**
 * A `<base>.idx.new` left by an interrupted index rebuild of repairLog (repair-index.ts writes the new
 * index there, then renames it into place): verifyLog calls it a leftover of that rebuild, not a foreign
 * file "named like a segment or index but not <20 digits>.seg/.idx", and the log stays ok.
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyLog } from '../dist/index.js';
import { suite, logOf } from './kit.js';

const test = suite('verify-index-rebuild-leftover');

test('a <base>.idx.new: a leftover warning naming the rebuild, and the log ok', async () => {
  const logDir = await logOf(3);
  writeFileSync(join(logDir, '00000000000000000000.idx.new'), Buffer.alloc(16));
  const r = await verifyLog(logDir);
  const f = r.findings.find((x) => x.file === '00000000000000000000.idx.new');
  assert.ok(f !== undefined, `a finding for the file: ${JSON.stringify(r.findings)}`);
  assert.is(f.kind, 'leftover', f.message);
  assert.match(f.message, /rebuil/);
  assert.is(r.ok, true, JSON.stringify(r.findings));
});

test.run();
