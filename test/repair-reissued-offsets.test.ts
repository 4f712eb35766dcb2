/**
 * A repair that cuts the log below a transactional cursor's committed offset sets the cursor back,
 * and the records appended next get the cut offsets again: offsets the consumer processed name other
 * records from then on. A user who keeps "the last offset processed" (or a (logId, offset)
 * idempotency key) would skip those new records silently. The report said only "400 → 213" per
 * cursor. Each reset-cursor action (and the durable.offset rewrite) now names the offsets handed out
 * again, and the CLI's `repair` ends with a line saying so, in a dry run too.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, repairLog } from '../dist/index.js';
import { suite, tempDir } from './kit.js';
import { cli } from './cli-kit.js';
import { N, damageThirdSegment, logWithCursor } from './repair-kit.js';

const test = suite('repair-reissued-offsets');

test('the report and the CLI name the offsets a repair hands out again, per cursor set back', async () => {
  const { logDir } = await logWithCursor();
  damageThirdSegment(logDir);
  const dry = cli('repair', logDir, '--dry-run');
  assert.is(dry.status, 0, dry.stderr);
  const r = await repairLog(logDir, { backupDir: join(tempDir(), 'backup') });
  const cut = r.cut!.offset;
  assert.ok(cut < N, `the cut ${cut} lies below the cursor's ${N}`);
  const reset = r.actions.filter((a) => a.action === 'reset-cursor');
  assert.equal(reset.map((a) => a.file), ['billing']);
  assert.match(reset[0]!.detail, `${N} → ${cut}`);
  assert.match(reset[0]!.detail, `offsets ${cut} to ${N - 1}`, 'the offsets it had committed that go to other records');
  assert.match(reset[0]!.detail, 'handed out again');
  const hint = r.actions.filter((a) => a.action === 'rewrite-durable-hint');
  for (const a of hint) assert.match(a.detail, `offsets ${cut} to `);
  for (const out of [dry.stdout]) {
    assert.match(out, `reset-cursor billing: ${N} → ${cut}`);
    assert.match(out, new RegExp(`offsets from ${cut} on are handed out again`), out);
  }

  // What the warning is about: the next record appended gets the cut offset, which the consumer processed before.
  const p = await Producer.open({ logDir });
  const at = p.append('new-after-repair');
  await p.flush();
  await p.close();
  assert.is(at, cut);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  const seen: Array<{ offset: number; text: string }> = [];
  await c.nonblockingProcess(null, (m) => { seen.push({ offset: m.offset, text: Buffer.from(m.data).toString() }); return 'commit'; });
  await c.close();
  assert.equal(seen, [{ offset: cut, text: 'new-after-repair' }], 'the cursor hands the new record out, at the reissued offset');
});

test('the CLI\'s repair (not a dry run) ends with the line on the offsets handed out again, as docs/cli.md says', async () => {
  const { logDir } = await logWithCursor();
  damageThirdSegment(logDir);
  const r = cli('repair', logDir, '--backup', join(tempDir(), 'backup'));
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[lines.length - 1]!, /^offsets from \d+ on are handed out again/, r.stdout);
});

test('a repair that sets no cursor back and leaves durable.offset says nothing of reissued offsets', async () => {
  const r = cli('repair', await (async () => { const { logDir } = await logWithCursor(); return logDir; })());
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stdout, 'handed out again');
});

test.run();
