/**
 * A folder where recovery opens or removes a file (producer.lock, a `<base>.seg.new` leftover, an
 * index without its segment) makes Producer.open refuse the log with ERR_LOG_CORRUPT: verifyLog
 * reports it as damage (the report not ok), never a clean log that does not open.
 */
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, verifyLog } from '../dist/index.js';
import { digestDir, logOf, rejectsWith, suite } from './kit.js';

const test = suite('verify-folder-recovery-refuses');

for (const name of ['producer.lock', '00000000000000000020.seg.new', '00000000000000099999.idx']) {
  test(`a folder at ${name}: damage in verify's report, and the log does not open`, async () => {
    const logDir = await logOf(20);
    mkdirSync(join(logDir, name));
    writeFileSync(join(logDir, name, 'x'), 'x'); // not an empty folder either
    const before = digestDir(logDir);
    const r = await verifyLog(logDir);
    console.log(`verifyLog with a folder at ${name}: ok=${r.ok}`, JSON.stringify(r.findings.map((f) => `${f.severity} ${f.kind} ${f.file}`)));
    assert.is(digestDir(logDir), before, 'verify changed nothing');
    const e = await rejectsWith(Producer.open({ logDir }), 'ERR_LOG_CORRUPT');
    console.log('Producer.open:', e.message);
    assert.is(r.ok, false, 'the report is not ok: the log does not open');
    assert.ok(r.findings.some((f) => f.severity === 'damage' && f.file === name), `a damage finding names ${name}`);
  });
}

test('a leftover <base>.seg.new file and an index without its segment stay warnings', async () => {
  const logDir = await logOf(20);
  writeFileSync(join(logDir, '00000000000000000020.seg.new'), '');
  writeFileSync(join(logDir, '00000000000000099999.idx'), '');
  const r = await verifyLog(logDir);
  assert.ok(r.ok, 'no damage');
  assert.equal(r.findings.map((f) => `${f.severity} ${f.kind} ${f.file}`).sort(), ['warning leftover 00000000000000000020.seg.new', 'warning leftover 00000000000000099999.idx']);
  const p = await Producer.open({ logDir });
  await p.close();
});

test.run();
