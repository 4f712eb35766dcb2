/**
 * The control plane: producer.roll() and producer.segments(), answered by the writer thread over its
 * comlink port (src/writer/control-port.ts). A roll on demand seals what is written and starts a new
 * segment, the files and inspectLog agree with the writer's list, records stay dense and whole across
 * rolls interleaved with appends, a call made while the writer sleeps is answered, the only thing the
 * process waits on can be a call, and a call never hangs: after close, destroy or a writer failure,
 * or racing them, it settles with a coded error or its answer.
 */
import * as assert from 'uvu/assert';
import * as diagnosticsChannel from 'node:diagnostics_channel';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Producer, SyncPolicy, inspectLog, verifyLog } from '../dist/index.js';
import { readTexts, rejectsWith, suite, tempDir, waitFor } from './kit.js';
import { withFaults } from './faults.js';

const test = suite('control');

function segmentBases(dir: string): number[] {
  return readdirSync(dir).filter((n) => n.endsWith('.seg')).map((n) => Number.parseInt(n, 10)).sort((a, b) => a - b);
}

test('roll() seals the active segment; segments() matches the files and inspectLog', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  try {
    assert.is(await p.roll(), null, 'an empty active segment is not rolled');
    const rolls: unknown[] = [];
    const onRoll = (m: unknown): void => void rolls.push(m);
    diagnosticsChannel.subscribe('reactive-log:roll', onRoll);
    try {
      for (let i = 0; i < 10; i++) p.append(`a${i}`);
      await p.flush();
      const rolled = await p.roll();
      assert.ok(rolled !== null);
      assert.equal(rolled.sealed.baseOffset, 0);
      assert.equal(rolled.sealed.endOffset, 10);
      assert.is(rolled.baseOffset, 10);
      // Events travel on the worker's own port, the answer on the control port: the event may come second.
      await waitFor(() => rolls.length === 1, 'the roll published like any other');
    } finally {
      diagnosticsChannel.unsubscribe('reactive-log:roll', onRoll);
    }
    for (let i = 0; i < 5; i++) p.append(`b${i}`);
    await p.flush();
    const segments = await p.segments();
    assert.equal(segments.map((s) => [s.baseOffset, s.endOffset, s.active]), [[0, 10, false], [10, 15, true]]);
    assert.equal(segments.map((s) => s.baseOffset), segmentBases(logDir));
    const info = await inspectLog(logDir);
    assert.equal(info.segments.map((s) => [s.baseOffset, s.bytes]), segments.map((s) => [s.baseOffset, s.bytes]));
    assert.is(p.stats().rolls, 1);
  } finally {
    await p.close();
  }
  assert.equal(await readTexts(logDir), [...Array.from({ length: 10 }, (_, i) => `a${i}`), ...Array.from({ length: 5 }, (_, i) => `b${i}`)]);
});

test('rolls interleaved with appends and retention: every record once, in order, the log verifies', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 64 * 1024, maxTotalBytes: 256 * 1024 });
  const expected: string[] = [];
  let rolled = 0;
  try {
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 500; i++) expected.push(`r${round}-${i}-${'x'.repeat(i % 50)}`);
      for (const text of expected.slice(-500)) p.append(text);
      // Most rounds roll without a flush first: the roll lands wherever the writer is in this round's
      // records, and finds an empty segment (null) when the writer answers it before writing any of
      // them, which a loaded machine makes common. Every fourth round flushes first, so that roll
      // has this round's records to seal, unless the round's last frame filled the segment and the
      // writer rolled on its own: then the active segment is empty.
      const forced = round % 4 === 3;
      if (forced) await p.flush();
      const result = await p.roll();
      if (result !== null) rolled++;
      else if (forced) {
        const active = (await p.segments()).at(-1)!;
        assert.is(active.endOffset, active.baseOffset, `a null roll after round ${round}'s flush: the active segment holds no record`);
      }
    }
    await p.flush();
    assert.ok(rolled >= 5, `rolled ${rolled} of 40 times`);
    // flush() resolves once the records are durable; retention for the frames written after the last
    // roll runs when the writer next turns idle, which can be after it answered segments(): ask again
    // until the list starts at the log start.
    let segments = await p.segments();
    await waitFor(async () => (segments = await p.segments())[0]!.baseOffset === p.logStartOffset, 'the segment list to start at the log start');
    assert.ok(p.stats().segmentsDeleted > 0, 'retention ran on the rolls');
    const spans = JSON.stringify(segments.map((s) => [s.baseOffset, s.endOffset]));
    for (let i = 1; i < segments.length; i++) assert.is(segments[i]!.baseOffset, segments[i - 1]!.endOffset, `segments are contiguous: ${spans}`);
    assert.is(segments.at(-1)!.endOffset, expected.length);
  } finally {
    await p.close();
  }
  const report = await verifyLog(logDir);
  assert.ok(report.ok, JSON.stringify(report));
  const texts = await readTexts(logDir);
  assert.equal(texts, expected.slice(expected.length - texts.length), 'what retention kept is the newest records, whole and in order');
});

test('calls made before close() are answered; calls after close or destroy, and calls racing destroy, settle', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  p.append('x');
  await p.flush();
  // Counted before close() stored CLOSING: the writer answers them before it finishes, and the
  // answers it posted before exiting are delivered before the calls left waiting are failed.
  const before = [p.segments(), p.roll()] as const;
  await p.close();
  const [list, rolled] = await Promise.all(before);
  assert.equal(list.map((s) => s.baseOffset), [0]);
  assert.is(rolled?.sealed.endOffset, 1);
  await rejectsWith(p.roll(), 'ERR_LOG_CLOSED');
  await rejectsWith(p.segments(), 'ERR_LOG_CLOSED');

  const q = await Producer.open({ logDir });
  q.append('y');
  const pending = q.segments();
  await q.destroy();
  await pending.then((v) => assert.ok(Array.isArray(v)), (e: { code?: string }) => assert.is(e.code, 'ERR_LOG_CLOSED'));
  await rejectsWith(q.segments(), 'ERR_LOG_CLOSED');
});

test('a roll whose fsync fails rejects with the writer\'s error', async () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const p = await withFaults({ arm, rules: [{ op: 'fdatasync', thread: 'writer', nth: 1, persistent: true, effect: { errno: 'EIO' } }] }, () =>
    Producer.open({ logDir, syncPolicy: SyncPolicy.never() }));
  p.append('sealed by the roll');
  await waitFor(() => p.writtenOffset === 1, 'the record written');
  writeFileSync(arm, ''); // from here the writer's fdatasync fails: the roll's seal is the first
  await rejectsWith(p.roll(), 'ERR_IO');
  assert.is(p.error?.code, 'ERR_IO');
  await rejectsWith(p.segments(), 'ERR_IO');
  await p.close().catch(() => undefined);
});

test('after a roll whose fsync fails, the calls drained behind it do not run: none reads as success', async () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  // One failure only: an fsync retried after EIO would succeed, which is what a call run after the
  // failure would take for durability.
  const p = await withFaults({ arm, rules: [{ op: 'fdatasync', thread: 'writer', nth: 1, effect: { errno: 'EIO' } }] }, () =>
    Producer.open({ logDir, syncPolicy: SyncPolicy.never() }));
  p.append('a');
  await waitFor(() => p.writtenOffset === 1, 'the record written');
  writeFileSync(arm, '');
  const outcomes = await Promise.allSettled([p.roll(), p.roll(), p.segments()]);
  assert.equal(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { code?: string }).code : 'answered')), ['ERR_IO', 'ERR_IO', 'ERR_IO']);
  assert.is(p.durableOffset, 0, 'nothing was published as durable after the failed fsync');
  await p.close().catch(() => undefined);
  assert.equal(segmentBases(logDir), [0], 'no segment was made after the failure');
});

test('a roll on demand of a format 1 active segment, then appends: the next frame does not roll again', async () => {
  const logDir = tempDir();
  cpSync(fileURLToPath(new URL('./fixtures/format-v1', import.meta.url)), logDir, { recursive: true });
  const p = await Producer.open({ logDir });
  const end = p.nextOffset;
  const rolled = await p.roll();
  assert.is(rolled?.baseOffset, end);
  p.append('after the roll');
  await p.flush();
  await p.close();
  assert.ok((await verifyLog(logDir)).ok);
  assert.is((await readTexts(logDir)).at(-1), 'after the roll');
});

test('control calls keep nothing once answered (20,000 calls, heap measured after a full GC)', () => {
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const script = `
    import { Producer } from ${JSON.stringify(dist)};
    const p = await Producer.open({ logDir: ${JSON.stringify(tempDir())} });
    const heap = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().heapUsed; };
    for (let i = 0; i < 2_000; i++) await p.segments();
    const before = heap();
    for (let i = 0; i < 20_000; i++) await p.segments();
    const grown = heap() - before;
    await p.close();
    console.log(JSON.stringify({ grown }));
  `;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, r.stderr);
  const { grown } = JSON.parse(r.stdout) as { grown: number };
  // A reaction kept per call (about 800 bytes each) would grow the heap by some 16 MB.
  assert.ok(grown < 4 * 1024 * 1024, `the heap grew by ${grown} bytes over 20,000 calls`);
});

test('a script whose last work is an awaited control call runs to its end; an idle producer keeps nothing alive', () => {
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const script = `
    import { Producer } from ${JSON.stringify(dist)};
    const p = await Producer.open({ logDir: ${JSON.stringify(tempDir())} });
    p.append('one');
    await p.flush();
    const rolled = await p.roll();
    const list = await p.segments();
    console.log(JSON.stringify({ rolled: rolled.sealed.endOffset, segments: list.length }));
    // not closed: the exit hook drains it, and neither the writer nor the control port holds the process
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), { rolled: 1, segments: 2 });
});

test.run();
