/**
 * A folder where durable.offset should be is damage that verifyLog reports, not an I/O error it throws.
 */
import * as assert from 'uvu/assert';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { verifyLog } from '../dist/index.js';
import { logOf, suite } from './kit.js';

const test = suite('admin-verify-hint-dir');

test('a folder at durable.offset is a damage finding, not a rejection', async () => {
  const logDir = await logOf(20);
  rmSync(join(logDir, 'durable.offset'), { force: true });
  mkdirSync(join(logDir, 'durable.offset'));
  const r = await verifyLog(logDir).then((v) => v, (e) => e as Error & { code?: string });
  console.log('verifyLog:', r instanceof Error ? `rejected ${r.code} ${r.message}` : `ok=${r.ok} ${JSON.stringify(r.findings.map((f) => f.kind))}`);
  assert.ok(!(r instanceof Error), 'reported, not thrown');
  assert.is((r as { ok: boolean }).ok, false);
});

test.run();
