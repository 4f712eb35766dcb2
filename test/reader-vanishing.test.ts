/**
 * A segment listed in the directory and gone when it is opened (the writer rolled on and retention
 * deleted it in between: with tiny segments a reader in another process meets this often). Reading
 * the log's bounds and seeking list the directory again instead of reporting ERR_POSITION_EXPIRED
 * for a range the caller never asked about. The fault layer deletes segments just before an open, as
 * the race does; a segment still listed that cannot be opened is damage.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence, inspectLog } from '../dist/index.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite, tempDir } from './kit.js';
import { withFaults, type FaultPlan } from './faults.js';

const test = suite('reader-vanishing');

/** A closed log of `n` records "r<offset>" on 1 KiB segments; returns its directory and segment bases. */
async function smallSegments(n: number): Promise<{ logDir: string; bases: number[] }> {
  const logDir = tempDir('rlog-vanishing-');
  const p = await Producer.open({ logDir, fileRollSize: 1024 });
  for (let i = 0; i < n; i++) {
    p.append(`r${i}-${'x'.repeat(60)}`);
    if (i % 5 === 4) await p.flush(); // several frames per segment
  }
  await p.close();
  const bases = (await inspectLog(logDir)).segments.map((s) => s.baseOffset);
  assert.ok(bases.length >= 4, `${bases.length} segments`);
  return { logDir, bases };
}

const segFile = (base: number): string => `${String(base).padStart(20, '0')}.seg`;

/** At the first open of segment `open` in this thread, segments `gone` are deleted first (retention between the listing and the open). */
function deletedBeforeOpen(logDir: string, open: number, gone: number[]): FaultPlan {
  const unlinkFirst = gone.flatMap((b) => [join(logDir, segFile(b)), join(logDir, segFile(b).replace('.seg', '.idx'))]);
  return { rules: [{ op: 'open', path: `${segFile(open)}$`, thread: 'main', nth: 1, effect: { unlinkFirst } }] };
}

/** A cursor committed at `at`; the consumer is closed. */
async function commitAt(logDir: string, at: number): Promise<void> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('v') });
  await c.nonblockingProcess(at, () => 'commit');
  await c.close();
  assert.is(c.committedOffset, at);
}

/** The error opening cursor "v" of `logDir` under `plan`, or null when it opens. */
async function cursorOpenError(logDir: string, plan: FaultPlan): Promise<{ code?: string; message?: string; details?: unknown } | null> {
  return withFaults(plan, async () => {
    try {
      await (await Consumer.open({ logDir, style: ConsumerStyle.clientTx('v') })).close();
      return null;
    } catch (err) {
      return err as { code?: string; message?: string; details?: unknown };
    }
  });
}

test('the walk to the end: the newest segment deleted between the listing and its open is listed again (inspectLog, Whence.latest)', async () => {
  const { logDir, bases } = await smallSegments(200);
  const newest = bases[bases.length - 1]!;
  // The log now ends where the deleted segment began (as if it had never been written: without the
  // durable.offset that names its records, which would make the missing records damage).
  rmSync(join(logDir, 'durable.offset'));
  const info = await withFaults(deletedBeforeOpen(logDir, newest, [newest]), () => inspectLog(logDir));
  assert.is(info.nextOffset, newest);
  const { logDir: dir2, bases: b2 } = await smallSegments(200);
  const newest2 = b2[b2.length - 1]!;
  rmSync(join(dir2, 'durable.offset'));
  const c = await withFaults(deletedBeforeOpen(dir2, newest2, [newest2]), () => Consumer.open({ logDir: dir2, style: ConsumerStyle.nonTx(Whence.latest()) }));
  try {
    assert.is(c.nextOffset, newest2, 'Whence.latest stands at the end');
  } finally {
    await c.close();
  }
});

test('a seek: the segment holding the cursor deleted between the listing and its open: ERR_POSITION_EXPIRED names the cursor\'s offset', async () => {
  const { logDir, bases } = await smallSegments(200);
  const at = bases[1]! + 2; // inside the second segment, not at its base
  await commitAt(logDir, at);
  const e = await cursorOpenError(logDir, deletedBeforeOpen(logDir, bases[1]!, [bases[0]!, bases[1]!]));
  assert.is(e?.code, 'ERR_POSITION_EXPIRED');
  assert.equal(e?.details, { offset: at, logStartOffset: bases[2] });
});

test('a segment the directory lists that cannot be opened is damage, not an expiry', async () => {
  const { logDir, bases } = await smallSegments(200);
  const at = bases[1]! + 2;
  await commitAt(logDir, at);
  const plan: FaultPlan = { rules: [{ op: 'open', path: `${segFile(bases[1]!)}$`, thread: 'main', nth: 1, persistent: true, effect: { errno: 'ENOENT' } }] };
  const e = await cursorOpenError(logDir, plan);
  assert.is(e?.code, 'ERR_LOG_CORRUPT');
  assert.match(e?.message ?? '', segFile(bases[1]!));
});

test.run();
