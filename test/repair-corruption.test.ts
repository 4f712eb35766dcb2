/**
 * repairLog, property-based, on the corruption suite's damaged logs (random byte damage to the
 * segments of the pristine logs): afterwards the log verifies without damage, holds exactly the
 * pristine records before the cut and no fewer than every record before the first damaged byte (the
 * longest valid prefix), the backup holds every removed byte as it was, and a second repair finds
 * nothing to cut. Runs on src/ (like corruption-recover.test.ts).
 */
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { announceSeed, checkProperty } from './fc-run.js';
import { suite } from './kit.js';
import { cleanupScratch, discard, materialise, pristinesFromChild, scratchDir, type Pristine } from './corruption-kit.js';
import { applyBytes, byteDamage, judgeSegment, withSegments, type ByteDamage } from './corruption-damage.js';
import { repairLog } from '../src/admin/repair.js';
import { verifyLog } from '../src/verify/verify-log.js';
import { Consumer, ConsumerStyle, Whence } from '../src/index.js';

const test = suite('repair-corruption');
const FILE = 'test/repair-corruption.test.ts';
const RUNS = 1000;

let logs: Pristine[] = [];
test.before(async () => {
  announceSeed(FILE);
  logs = await pristinesFromChild();
});
test.after(cleanupScratch);

/** The end offset of the longest prefix of segments and frames byte-identical to the pristine log. */
function intactEnd(p: Pristine, segs: readonly Buffer[]): number {
  let end = p.segments[0]!.base;
  for (let i = 0; i < p.segments.length; i++) {
    const layout = p.segments[i]!;
    const v = judgeSegment(layout, p.files.get(layout.name)!, segs[i]!);
    if (!v.headerIntact) return end;
    end = v.prefixEnd;
    if (v.lost || v.extra) return end;
  }
  return end;
}

async function readAll(dir: string): Promise<Buffer[]> {
  const c = await Consumer.open({ logDir: dir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...c.iter()].map((m) => Buffer.from(m.data));
  } finally {
    await c.close();
  }
}

async function checkRepair({ log, damage }: { log: number; damage: ByteDamage[] }): Promise<void> {
  const p = logs[log]!;
  const segs = applyBytes(p, damage);
  const files = withSegments(p, segs);
  const dir = materialise(files);
  const backup = join(scratchDir('rlog-repair-backup-'), 'b');
  try {
    const report = await repairLog(dir, { backupDir: backup });
    const verified = await verifyLog(dir);
    assert.ok(verified.ok, `${p.label}: damage left after repair: ${verified.findings.filter((f) => f.severity === 'damage').map((f) => f.message).join('; ')}`);
    const records = await readAll(dir);
    const start = p.segments[0]!.base;
    const k = start + records.length;
    if (report.cut !== null) assert.is(report.cut.offset, k, 'the log ends at the cut');
    assert.ok(k >= intactEnd(p, segs), `${p.label}: the cut (${k}) falls inside the intact prefix (${intactEnd(p, segs)})`);
    records.forEach((r, i) => assert.ok(r.equals(p.records[start + i]!), `record ${start + i} is the pristine one`));
    for (const a of report.actions) {
      if (a.action === 'remove') assert.ok(readFileSync(join(backup, a.file)).equals(files.get(a.file)!), `${a.file} kept whole in the backup`);
      if (a.action === 'truncate') assert.ok(readFileSync(join(backup, `${a.file}.from-${report.cut!.position}`)).equals(files.get(a.file)!.subarray(report.cut!.position)), `${a.file}'s tail kept in the backup`);
    }
    assert.is((await repairLog(dir, { dryRun: true })).cut, null, 'a second repair finds nothing to cut');
  } finally {
    discard(dir);
    if (existsSync(backup)) discard(join(backup, '..'));
  }
}

test('property: random byte damage to the segments: repair leaves the longest valid prefix and keeps the rest', async () => {
  const arb = fc.record({ log: fc.nat().map((n) => n % logs.length), damage: fc.array(byteDamage(fc.nat()), { minLength: 1, maxLength: 3 }) });
  await checkProperty('repair/bytes', arb, checkRepair, { runs: RUNS, file: FILE });
});

// Cases the property found, kept as fixed regressions (each failed before the fix named with it).
test('regression: a damaged header of a later segment (the cursors were read through inspectLog, which refused the header)', async () => {
  await checkRepair({ log: 0, damage: [{ kind: 'overwrite', seg: 11, at: { any: 0 }, bytes: [0] }] });
});

test('regression: a segment cut at a frame boundary before the durable hint (no invalid frame, and the hint was left past the end)', async () => {
  await checkRepair({ log: 0, damage: [{ kind: 'truncate', seg: 737955626, at: { frame: 0, delta: 0 } }] });
});

test.run();
