/**
 * A file (or a FIFO) where the log keeps its `cursors/` folder: no transactional consumer opens the
 * log and repairLog refuses it (it cannot list the cursors), so verifyLog reports it as damage, never
 * an ok log with a warning, and changes nothing.
 */
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, LogError, repairLog, verifyLog } from '../dist/index.js';
import { digestDir, logOf, suite } from './kit.js';

const test = suite('verify-cursors-not-folder');

const kinds: Record<string, (path: string) => void> = {
  file: (path) => writeFileSync(path, 'not a folder\n'),
  fifo: (path) => execFileSync('mkfifo', [path]),
};

for (const [kind, make] of Object.entries(kinds)) {
  test(`a ${kind} at cursors: damage in verify's report; a transactional consumer and repair are refused`, async () => {
    const logDir = await logOf(20);
    rmSync(join(logDir, 'cursors'), { recursive: true, force: true });
    make(join(logDir, 'cursors'));
    const before = digestDir(logDir);
    const r = await verifyLog(logDir);
    assert.is(digestDir(logDir), before, 'verify changed nothing');
    const opened = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') }).then(async (c) => { await c.close(); return null; }, (e: unknown) => e);
    assert.ok(opened instanceof LogError, 'a transactional consumer does not open');
    const repaired = await repairLog(logDir, { dryRun: true }).then(() => null, (e: unknown) => e);
    assert.ok(repaired instanceof LogError, 'repair refuses: it cannot list the cursors');
    assert.is(r.ok, false, `the report is not ok: ${JSON.stringify(r.findings)}`);
    assert.ok(r.findings.some((f) => f.severity === 'damage' && f.file === 'cursors'), 'a damage finding names cursors');
  });
}

test.run();
