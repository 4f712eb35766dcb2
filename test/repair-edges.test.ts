/**
 * repairLog where the log's bookkeeping is not what a clean close leaves: durable.offset missing or
 * behind (it is never fsynced), a consumer opening a cursor while repair runs, segments an interrupted
 * retention left below the recorded log start, a leftover producer.lock under a dry run, and a backup
 * directory that cannot be made. Each must end with a log that opens and cursors that do not point past
 * its end, or refuse with a coded error before anything changed.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, Producer, inspectLog, repairLog } from '../dist/index.js';
import { encodeDurableHint } from '../src/storage/durable-hint.js';
import { digestDir, readTexts, rejectsWith, suite, tempDir } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';
import { N, logWithCursor, texts } from './repair-kit.js';

const test = suite('repair-edges');
test.after(killCliProcesses);
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** The repair kit's log with a byte flipped in the middle of segment `victim`. */
async function damaged(victim: number): Promise<{ logDir: string; segs: string[] }> {
  const { logDir, segs } = await logWithCursor();
  const b = readFileSync(join(logDir, segs[victim]!));
  b[Math.floor(b.length / 2)] ^= 0xff;
  writeFileSync(join(logDir, segs[victim]!), b);
  return { logDir, segs };
}

test('durable.offset missing, torn or behind the cut: the cursor is still set to the cut, and a second repair finds nothing', async () => {
  for (const hint of ['missing', 'torn', 'behind'] as const) {
    const { logDir } = await damaged(2);
    const path = join(logDir, 'durable.offset');
    if (hint === 'missing') rmSync(path);
    else writeFileSync(path, hint === 'torn' ? Buffer.alloc(readFileSync(path).length) : encodeDurableHint(10));
    const r = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
    const k = r.cut!.offset;
    assert.ok(k > 10 && k < N, `${hint}: cut at ${k}`);
    assert.equal((await inspectLog(logDir)).cursors.map((c) => [c.id, c.committedOffset]), [['billing', k]], `${hint}: the cursor at the cut`);
    assert.is((await repairLog(logDir, { dryRun: true })).cut, null, `${hint}: nothing left to repair`);
    assert.equal(await readTexts(logDir), texts.slice(0, k));
  }
});

test('a consumer that opens a cursor repair is about to reset, while repair runs, is refused (the log is being repaired) until repair is done', async () => {
  const { logDir } = await damaged(2);
  const tryOpen = `import { Consumer, ConsumerStyle } from ${JSON.stringify(DIST)};
    try { const c = await Consumer.open({ logDir: ${JSON.stringify(logDir)}, style: ConsumerStyle.clientTx('billing') }); console.log('opened', c.nextOffset); await c.close(); }
    catch (e) { console.log(e.code); }`;
  const seen: string[] = [];
  const r = await repairLog(logDir, {
    backupDir: join(tempDir(), 'backup'),
    // While the backup is copied, another process opens the cursor (synchronously: repair waits for it).
    onProgress: () => {
      if (seen.length === 0) seen.push(spawnSync(process.execPath, ['--input-type=module', '-e', tryOpen], { encoding: 'utf8' }).stdout.trim());
    },
  });
  assert.equal(seen, ['ERR_LOG_LOCKED'], 'refused: the log is being repaired');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  assert.is(c.nextOffset, r.cut!.offset, 'opened after repair: at the cut');
  await c.close();
});

test('segments an interrupted retention left below the recorded log start are not the log: damage there cuts nothing', async () => {
  const { logDir, segs } = await damaged(1);
  const start = Number(segs[3]!.slice(0, 20));
  writeFileSync(join(logDir, 'start.offset'), encodeDurableHint(start)); // recorded, then the deletes were interrupted
  const r = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
  assert.is(r.cut, null, 'the log from its recorded start is whole');
  const p = await Producer.open({ logDir });
  assert.is(p.logStartOffset, start);
  assert.is(p.nextOffset, N);
  await p.close();
  assert.equal(await readTexts(logDir), texts.slice(start));
});

test('a dry run beside a leftover producer.lock changes nothing; a backup directory that cannot be made is a coded error', async () => {
  const { logDir } = await damaged(2);
  writeFileSync(join(logDir, 'producer.lock'), '12345\n'); // what a killed producer leaves
  const before = digestDir(logDir);
  const plan = await repairLog(logDir, { dryRun: true });
  assert.ok(plan.cut !== null);
  assert.is(digestDir(logDir), before, 'the dry run left the directory as it was');
  const file = join(tempDir(), 'a-file');
  writeFileSync(file, 'x');
  for (const backupDir of [file, join(file, 'sub')]) {
    const err = await rejectsWith(repairLog(logDir, { backupDir }), 'ERR_INVALID_OPTION');
    assert.match(err.message, /backupDir/);
    assert.is(digestDir(logDir), before, `${backupDir}: refused before anything changed`);
  }
  // One that is there already, holding a file of a name repair backs up with other bytes (an earlier
  // repair's durable.offset, naming another end): coded. (A copy holding the start of the same bytes
  // is what a stopped repair left, written again: repair-backup-reused.)
  const again = join(tempDir(), 'backup');
  await repairLog(logDir, { backupDir: again });
  writeFileSync(join(again, 'durable.offset'), encodeDurableHint(N + 7));
  const second = await damaged(2);
  await rejectsWith(repairLog(second.logDir, { backupDir: again }), 'ERR_IO');
});

test('a damaged cursor file is left to cursor reset or delete: repair, its dry run and tail go on', async () => {
  const { logDir } = await damaged(2);
  const other = join(logDir, 'cursors', 'client.other.cursor');
  writeFileSync(other, 'garbage'); // a cursor file with no valid slot
  const t = cli('tail', logDir, '-n', '2');
  assert.is(t.status, 0, t.stderr);
  assert.ok((await repairLog(logDir, { dryRun: true })).cut !== null);
  const r = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
  assert.equal(r.actions.filter((a) => a.action === 'reset-cursor').map((a) => a.file), ['billing']);
  assert.equal(readFileSync(other, 'utf8'), 'garbage', 'left as it was');
});

test.run();
