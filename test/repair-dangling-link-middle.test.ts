/**
 * A symbolic link to nothing in place of a segment the chain needs (the middle one, or the first):
 * verifyLog reports it, Producer.open refuses the log, and repairLog cuts there as at a missing
 * segment (the link goes, nothing copied for it; the later segments go to the backup), so that the
 * log opens again with the records before it. Before, repair rejected with ERR_IO (ENOENT) opening
 * the link, and nothing could mend the log.
 */
import * as assert from 'uvu/assert';
import { existsSync, lstatSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, repairLog, verifyLog } from '../dist/index.js';
import { readTexts, suite, tempDir } from './kit.js';
import { logWithCursor, texts } from './repair-kit.js';

const test = suite('repair-dangling-link-middle');

for (const which of [2, 0]) {
  test(`a dangling link in place of segment ${which === 0 ? 'the first' : 'the third'}: repair cuts there, the log opens with the records before it`, async () => {
    const { logDir, segs } = await logWithCursor();
    const link = segs[which]!;
    const base = Number(link.slice(0, -4));
    const later = segs.slice(which + 1).map((s) => [s, readFileSync(join(logDir, s))] as const);
    rmSync(join(logDir, link));
    symlinkSync(join(tempDir(), 'gone'), join(logDir, link));
    assert.not.ok((await verifyLog(logDir)).ok, 'verify reports it');
    const refused = await Producer.open({ logDir }).then(async (p) => { await p.close(); return null; }, (e: unknown) => e);
    assert.ok(refused instanceof Error, 'Producer.open refuses the log');

    const plan = await repairLog(logDir, { dryRun: true });
    assert.equal([plan.cut?.file, plan.cut?.position, plan.cut?.offset], [link, 0, base]);
    assert.ok(plan.actions.some((a) => a.action === 'remove' && a.file === link && a.bytes === 0), JSON.stringify(plan.actions));
    assert.ok(lstatSync(join(logDir, link)).isSymbolicLink(), 'the dry run changed nothing');

    const backupDir = join(tempDir(), 'b');
    const r = await repairLog(logDir, { backupDir });
    assert.is(r.cut?.file, link);
    assert.not.ok(readdirSync(logDir).includes(link) && lstatSync(join(logDir, link)).isSymbolicLink(), 'the link is gone');
    assert.not.ok(existsSync(join(backupDir, link)), 'nothing was copied for the link');
    for (const [name, bytes] of later) assert.ok(readFileSync(join(backupDir, name)).equals(bytes), `${name} is in the backup`);
    assert.ok((await verifyLog(logDir)).ok, 'the log verifies');
    const p = await Producer.open({ logDir });
    try {
      assert.is(p.nextOffset, base);
    } finally {
      await p.close();
    }
    assert.equal(await readTexts(logDir), texts.slice(0, base));
  });
}

test.run();
