/**
 * A folder or a FIFO where start.offset should be is damage that verifyLog reports (the report not ok:
 * Producer.open refuses such a log with ERR_LOG_CORRUPT), as for durable.offset, not an error it throws.
 */
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, verifyLog } from '../dist/index.js';
import { digestDir, logOf, rejectsWith, suite } from './kit.js';

const test = suite('verify-start-offset-dir');

const kinds: Array<[string, (path: string) => void]> = [
  ['a folder', (path) => mkdirSync(path)],
  ['a FIFO', (path) => execFileSync('mkfifo', [path])],
];

for (const [what, make] of kinds) {
  test(`${what} at start.offset is a damage finding, not a rejection`, async () => {
    const logDir = await logOf(20);
    rmSync(join(logDir, 'start.offset'), { force: true });
    make(join(logDir, 'start.offset'));
    const before = digestDir(logDir);
    const r = await verifyLog(logDir).then((v) => v, (e) => e as Error & { code?: string });
    console.log('verifyLog:', r instanceof Error ? `rejected ${r.code} ${r.message}` : `ok=${r.ok} ${JSON.stringify(r.findings.map((f) => `${f.severity} ${f.kind} ${f.file}`))}`);
    assert.ok(!(r instanceof Error), 'reported, not thrown');
    assert.is(r.ok, false, 'not ok: the log does not open');
    assert.ok(r.findings.some((f) => f.severity === 'damage' && f.kind === 'start-offset' && f.file === 'start.offset'), 'a start-offset damage finding');
    assert.is(r.records, 20, 'the segments are verified too');
    assert.is(digestDir(logDir), before, 'verify changed nothing');
    await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
  });
}

test.run();
