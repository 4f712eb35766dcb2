/**
 * A segment listed in the directory and gone when it is opened (the writer rolled on and retention
 * deleted it in between: with tiny segments a reader in another process meets this often). Reading
 * the log's bounds and seeking list the directory again instead of reporting ERR_POSITION_EXPIRED
 * for a range the caller never asked about. The fault layer makes the segment's first open in this
 * thread fail with ENOENT, as the race does.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer, Whence, inspectLog } from '../dist/index.js';
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

/** The first open of segment `base` in this thread fails with ENOENT. */
function firstOpenGone(base: number): FaultPlan {
  return { rules: [{ op: 'open', path: `${String(base).padStart(20, '0')}\\.seg$`, thread: 'main', nth: 1, effect: { errno: 'ENOENT' } }] };
}

test('the bounds: the newest segment gone at its open is listed again (inspectLog, Whence.latest, lag)', async () => {
  const { logDir, bases } = await smallSegments(200);
  const newest = bases[bases.length - 1]!;
  const info = await withFaults(firstOpenGone(newest), () => inspectLog(logDir));
  assert.is(info.nextOffset, 200);
  const c = await withFaults(firstOpenGone(newest), () => Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.latest()) }));
  try {
    assert.is(c.nextOffset, 200, 'Whence.latest stands at the end');
  } finally {
    await c.close();
  }
  const o = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    const lag = await withFaults(firstOpenGone(newest), async () => o.lag());
    assert.is(lag.records, 200);
  } finally {
    await o.close();
  }
});

test('a seek: the segment holding the cursor gone at its open is listed again, and the cursor\'s record comes first', async () => {
  const { logDir, bases } = await smallSegments(200);
  const base = bases[1]!;
  const at = base + 2; // inside the segment, not at its base
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('v') });
  await c.nonblockingProcess(at, () => 'commit');
  await c.close();
  assert.is(c.committedOffset, at);
  const again = await withFaults(firstOpenGone(base), () => Consumer.open({ logDir, style: ConsumerStyle.clientTx('v') }));
  try {
    const first = again.iter().next();
    assert.ok(first.done !== true, 'a record');
    assert.is(first.value!.offset, at);
    assert.ok(Buffer.from(first.value!.data).toString().startsWith(`r${at}-`));
  } finally {
    await again.close();
  }
});

test.run();
