/**
 * verifyLog's warning for a file in cursors/ named like no cursor (a copy a file manager made,
 * "client.billing copy.cursor") said retention reads every *.cursor file there: since retention
 * counts only the cursors a consumer can own (retention-stray-cursor-name), such a file holds nothing
 * back, and the warning says so instead of sending the user to delete it to free retention.
 */
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyLog } from '../dist/index.js';
import { suite, logOf } from './kit.js';

const test = suite('verify-stray-cursor-name');

test('a stray *.cursor file: a foreign-file warning that does not claim retention reads it', async () => {
  const logDir = await logOf(3);
  mkdirSync(join(logDir, 'cursors'), { recursive: true });
  writeFileSync(join(logDir, 'cursors', 'client.billing copy.cursor'), 'x');
  const r = await verifyLog(logDir);
  const f = r.findings.find((x) => x.file === 'cursors/client.billing copy.cursor');
  assert.ok(f !== undefined, `a finding for the file: ${JSON.stringify(r.findings)}`);
  assert.is(f.kind, 'foreign-file');
  assert.not.match(f.message, /retention reads/, f.message);
  assert.match(f.message, /retention does not count it/);
});

test.run();
