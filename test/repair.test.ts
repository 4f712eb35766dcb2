/**
 * `reactive-log repair` and repairLog on damaged logs: a flipped byte in a sealed segment, a damaged
 * header of the first segment, a segment missing between two others. Afterwards the log opens and
 * verifies, holds exactly the records before the first damage, the backup holds every removed byte
 * (later segments byte-identical, the cut tail as `<segment>.from-<position>`), durable.offset and a
 * cursor past the cut are set to it. A dry run, an intact log, a held producer and a held cursor
 * change nothing.
 */
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, inspectLog, repairLog, verifyLog } from '../dist/index.js';
import { digestDir, logOf, readTexts, rejectsWith, suite, tempDir } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';
import { N, logWithCursor, texts } from './repair-kit.js';

const test = suite('repair');
test.after(killCliProcesses);

/** The repair kit's log; its files' bytes. */
async function damagedBase(): Promise<{ logDir: string; segs: string[]; files: Map<string, Buffer> }> {
  const { logDir, segs } = await logWithCursor();
  return { logDir, segs, files: new Map(readdirSync(logDir).filter((f) => /\.(seg|idx)$|^durable/.test(f)).map((f) => [f, readFileSync(join(logDir, f))])) };
}

test('a flipped byte in a sealed segment: cut at its frame, the rest kept in the backup, the cursor and hint set to the cut', async () => {
  const { logDir, segs, files } = await damagedBase();
  const victim = segs[2]!;
  const bytes = Buffer.from(files.get(victim)!);
  const at = Math.floor(bytes.length / 2);
  bytes[at] ^= 0xff;
  writeFileSync(join(logDir, victim), bytes);
  assert.is((await verifyLog(logDir)).ok, false, 'the damage is there');

  const damaged = digestDir(logDir);
  const dry = cli('repair', logDir, '--dry-run', '--json');
  assert.is(dry.status, 0, dry.stderr);
  assert.is(digestDir(logDir), damaged, 'a dry run changes nothing');
  const planned = JSON.parse(dry.stdout) as { cut: { file: string; position: number; offset: number } };
  assert.is(planned.cut.file, victim);

  const backup = join(tempDir(), 'backup');
  const r = cli('repair', logDir, '--backup', backup, '--json');
  assert.is(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { cut: { file: string; position: number; offset: number }; verifiedAfter: { ok: boolean } };
  assert.equal(report.cut, planned.cut, 'the cut the dry run showed');
  assert.ok(report.cut.position <= at, 'cut at or before the flipped byte');
  assert.is(report.verifiedAfter.ok, true);
  const k = report.cut.offset;
  assert.ok(k > 0 && k < N);
  assert.equal(await readTexts(logDir), texts.slice(0, k), 'exactly the records before the damaged frame');
  // The backup: the tail of the cut segment and every later segment and index, byte for byte.
  assert.equal(readFileSync(join(backup, `${victim}.from-${report.cut.position}`)), bytes.subarray(report.cut.position));
  for (const later of segs.slice(3)) {
    assert.equal(readFileSync(join(backup, later)), files.get(later), later);
    assert.ok(!existsSync(join(logDir, later)), `${later} removed from the log`);
  }
  const info = await inspectLog(logDir);
  assert.is(info.nextOffset, k);
  assert.is(info.durableOffset, k);
  assert.equal(info.cursors.map((c) => [c.id, c.committedOffset]), [['billing', k]], 'the cursor past the cut is set to it');
  const p = await Producer.open({ logDir });
  assert.is(p.append('after repair'), k, 'the log goes on at the cut');
  await p.close();
});

test('a damaged header of the first segment: everything goes to the backup, an empty segment keeps offset 0', async () => {
  const { logDir, segs, files } = await damagedBase();
  const first = Buffer.from(files.get(segs[0]!)!);
  first[0] ^= 0xff;
  writeFileSync(join(logDir, segs[0]!), first);
  const backup = join(tempDir(), 'backup');
  const report = await repairLog(logDir, { backupDir: backup });
  assert.equal([report.cut?.file, report.cut?.position, report.cut?.offset], [segs[0], 0, 0]);
  assert.ok(report.actions.some((a) => a.action === 'create-segment'));
  assert.equal(readFileSync(join(backup, segs[0]!)), first);
  assert.equal(await readTexts(logDir), []);
  assert.is((await verifyLog(logDir)).ok, true);
});

test('a segment missing between two others: the log ends where the one before it ends', async () => {
  const { logDir, segs } = await damagedBase();
  rmSync(join(logDir, segs[2]!));
  const report = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
  assert.is(report.cut?.file, segs[3]);
  assert.is(report.cut?.position, 0);
  assert.match(report.cut!.reason, 'missing');
  const kept = await readTexts(logDir);
  assert.equal(kept, texts.slice(0, kept.length));
  assert.is(kept.length, Number(segs[2]!.slice(0, -4)), 'ends at the missing segment\'s base');
  assert.is((await verifyLog(logDir)).ok, true);
});

test('an intact log, a held producer, a held cursor past the cut: nothing changes', async () => {
  const intact = await logOf(texts.slice(0, 50));
  const before = digestDir(intact);
  const r = cli('repair', intact);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, 'nothing to repair');
  assert.is(digestDir(intact), before);

  const { logDir, segs, files } = await damagedBase();
  const bytes = Buffer.from(files.get(segs[1]!)!);
  bytes[bytes.length - 20] ^= 0xff;
  writeFileSync(join(logDir, segs[1]!), bytes);
  const damaged = digestDir(logDir);
  const p = await Producer.open({ logDir }).catch(() => null); // recovery may refuse the damage
  if (p !== null) {
    await rejectsWith(repairLog(logDir), 'ERR_LOG_LOCKED');
    await p.close();
  }
  const held = cli('repair', logDir, '--dry-run');
  assert.is(held.status, 0, held.stderr);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await rejectsWith(repairLog(logDir), 'ERR_CURSOR_LOCKED');
  await c.close();
  if (p === null) assert.is(digestDir(logDir), damaged, 'nothing changed');
});

test.run();
