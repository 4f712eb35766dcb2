/**
 * A transactional cursor committed past the end of the log's records (the newest segments lost
 * after it committed: a bad restore) cannot open (its consumer and the producer refuse the log with
 * ERR_LOG_CORRUPT). inspectLog showed it with lag 0 and nothing else, as a consumer that is caught
 * up. Its summary now says so (`pastEnd: true`), and `reactive-log info` names it.
 */
import * as assert from 'uvu/assert';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, inspectLog } from '../dist/index.js';
import { rejectsWith, suite, tempDir } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('inspect-cursor-past-end');
test.after(killCliProcesses);

/** A log of 40 records in several segments; `billing` committed at 40, `report` at 5; the newest two segments lost. */
async function logWithCursorPastEnd(): Promise<{ logDir: string; end: number }> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, fileRollSize: 1024 });
  for (let i = 0; i < 40; i++) {
    p.append(`record ${i} ${'x'.repeat(60)}`);
    if (i % 5 === 4) await p.flush();
  }
  await p.close();
  for (const [id, n] of [['billing', 40], ['report', 5]] as const) {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx(id) });
    await c.nonblockingProcess(n, () => 'commit');
    await c.close();
  }
  const segs = readdirSync(logDir).filter((n) => n.endsWith('.seg')).sort();
  assert.ok(segs.length >= 3, `${segs}`);
  for (const s of segs.slice(-2)) for (const n of [s, s.replace('.seg', '.idx')]) rmSync(join(logDir, n));
  rmSync(join(logDir, 'durable.offset'));
  return { logDir, end: Number(segs[segs.length - 2]!.slice(0, 20)) };
}

test('inspectLog marks the cursor past the end, and only it; the cursor cannot open', async () => {
  const { logDir, end } = await logWithCursorPastEnd();
  const info = await inspectLog(logDir);
  assert.is(info.nextOffset, end);
  const byId = Object.fromEntries(info.cursors.map((c) => [c.id, c]));
  assert.is(byId.billing!.committedOffset, 40);
  assert.is(byId.billing!.pastEnd, true);
  assert.is(byId.report!.pastEnd, false);
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') }), 'ERR_LOG_CORRUPT');
  rmSync(logDir, { recursive: true, force: true });
});

test('reactive-log info and cursor list name the cursor past the end', async () => {
  const { logDir, end } = await logWithCursorPastEnd();
  const r = cli('info', logDir);
  assert.is(r.status, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.trim().startsWith('billing')) ?? '';
  assert.match(line, `past the end of the log (${end})`);
  const other = r.stdout.split('\n').find((l) => l.trim().startsWith('report')) ?? '';
  assert.not.match(other, 'past the end');
  const list = cli('cursor', 'list', logDir);
  assert.match(list.stdout.split('\n').find((l) => l.startsWith('billing')) ?? '', `past the end of the log (${end})`);
  rmSync(logDir, { recursive: true, force: true });
});

test.run();
