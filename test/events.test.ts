/**
 * Events through node:diagnostics_channel (src/events.ts): recovery at open, roll and retention relayed
 * from the writer thread, writer failure (also as producer.failed), dead letters; payloads checked
 * against the files and the producer. Nothing is built for a channel nobody subscribes to.
 */
import * as assert from 'uvu/assert';
import diagnosticsChannel from 'node:diagnostics_channel';
import { readdirSync, writeFileSync } from 'node:fs';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, channels } from '../dist/index.js';
import { rejectsWith, suite, tempDir, waitFor } from './kit.js';
import { withFaults } from './faults.js';

const test = suite('events');

/** Collects what `name` publishes while `fn` runs. */
async function collect<T>(name: string, fn: (seen: T[]) => Promise<void>): Promise<T[]> {
  const seen: T[] = [];
  const onMessage = (m: unknown): void => void seen.push(m as T);
  diagnosticsChannel.subscribe(name, onMessage);
  try {
    await fn(seen);
  } finally {
    diagnosticsChannel.unsubscribe(name, onMessage);
  }
  return seen;
}

test('recovery, roll and retention: one event each, with the offsets and sizes the files show', async () => {
  const logDir = tempDir();
  const rolls: { sealedBaseOffset: number; sealedBytes: number; baseOffset: number; logDir: string }[] = [];
  const deletions: { baseOffset: number; endOffset: number; logStartOffset: number }[] = [];
  const onRoll = (m: unknown): void => void rolls.push(m as (typeof rolls)[number]);
  const onRetention = (m: unknown): void => void deletions.push(m as (typeof deletions)[number]);
  diagnosticsChannel.subscribe('reactive-log:roll', onRoll);
  diagnosticsChannel.subscribe('reactive-log:retention', onRetention);
  try {
    const recoveries = await collect<{ logDir: string; nextOffset: number; truncated: unknown; removed: string[] }>('reactive-log:recovery', async () => {
      const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024, maxTotalBytes: 3072 });
      for (let i = 0; i < 200; i++) {
        p.append(`record ${i} ${'x'.repeat(30)}`);
        if (i % 10 === 9) await p.flush();
      }
      await waitFor(() => rolls.length === p.stats().rolls && deletions.length === p.stats().segmentsDeleted, 'every roll and deletion relayed');
      await p.close();
    });
    assert.is(recoveries.length, 1);
    assert.ok(recoveries[0]!.logDir.length > 0 && recoveries[0]!.nextOffset === 0 && recoveries[0]!.truncated === null);
    assert.ok(rolls.length >= 5 && deletions.length >= 3, `${rolls.length} rolls, ${deletions.length} deletions`);
    for (const [i, r] of rolls.entries()) {
      assert.ok(r.baseOffset > r.sealedBaseOffset && r.sealedBytes >= 1024, JSON.stringify(r));
      if (i > 0) assert.is(r.sealedBaseOffset, rolls[i - 1]!.baseOffset, 'each roll seals the segment the last one started');
    }
    for (const d of deletions) assert.ok(d.endOffset > d.baseOffset && d.logStartOffset === d.endOffset, JSON.stringify(d));
    const left = readdirSync(logDir).filter((n) => n.endsWith('.seg')).map((n) => Number(n.slice(0, 20)));
    for (const d of deletions) assert.not.ok(left.includes(d.baseOffset), `segment ${d.baseOffset} deleted`);
    assert.is(Math.min(...left), deletions.at(-1)!.logStartOffset);
  } finally {
    diagnosticsChannel.unsubscribe('reactive-log:roll', onRoll);
    diagnosticsChannel.unsubscribe('reactive-log:retention', onRetention);
  }
});

test('a writer failure is published once and resolves producer.failed', async () => {
  const logDir = tempDir();
  const failures = await collect<{ logDir: string; error: { code: string } }>('reactive-log:writer-failure', async () => {
    const arm = `${tempDir()}/arm`;
    const p = await withFaults({ arm, rules: [{ op: 'fdatasync', thread: 'writer', nth: 1, persistent: true, effect: { errno: 'EIO' } }] }, () =>
      Producer.open({ logDir, syncPolicy: SyncPolicy.always() }));
    writeFileSync(arm, ''); // the fault counts from here: after the open
    p.append('doomed');
    // The writer thread does not keep the process alive (it is unref'd), and a pending promise does
    // not either: an application that waits on producer.failed has something else running.
    const keepAlive = setInterval(() => undefined, 1000);
    const err = await p.failed.finally(() => clearInterval(keepAlive));
    assert.is(err.code, 'ERR_IO');
    assert.is(await rejectsWith(p.flush(), 'ERR_IO'), err, 'a flush after the failure rejects with the writer\'s error');
    await p.close().catch(() => undefined);
  });
  assert.is(failures.length, 1);
  assert.is(failures[0]!.error.code, 'ERR_IO');
});

test('a dead letter is published with its offset and attempts', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  p.append('a');
  p.append('poison');
  await p.close();
  const letters = await collect<{ offset: number; attempts: number; lastError: string | null; deadLetterDir: string }>('reactive-log:dead-letter', async () => {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('dl'), retry: { maxAttempts: 2, deadLetterDir: `${tempDir()}/dl` } });
    await c.nonblockingProcess(10, (m) => (Buffer.from(m.data).toString() === 'poison' ? 'retry' : 'commit'));
    await c.close();
  });
  assert.is(letters.length, 1);
  assert.is(letters[0]!.offset, 1);
  assert.is(letters[0]!.attempts, 2);
  assert.match(letters[0]!.deadLetterDir, /\/dl$/);
});

test('the exported channels are the named ones; without subscribers nothing is published', () => {
  assert.is(channels.roll.name, 'reactive-log:roll');
  assert.is(channels.writerFailure.name, 'reactive-log:writer-failure');
  for (const ch of Object.values(channels)) assert.is(ch.hasSubscribers, false);
});

test('lag: a clientTx consumer with lagThreshold publishes when it falls behind and when it catches up', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  p.append('r0');
  await p.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing'), lagThreshold: { records: 10 } });
  const seen = await collect<{ logDir: string; consumer: string | null; above: boolean; lag: { records: number }; threshold: unknown }>('reactive-log:lag', async (events) => {
    for (let i = 1; i <= 30; i++) p.append(`r${i}`);
    await p.flush();
    await waitFor(() => events.length === 1, 'the lag event');
    assert.is(events[0]!.above, true);
    assert.is(events[0]!.lag.records, 31, 'no record read yet');
    await c.nonblockingProcess(31, () => 'commit');
    await waitFor(() => events.length === 2, 'the caught-up event');
  });
  assert.equal(seen.map((e) => [e.consumer, e.above, e.lag.records]), [['billing', true, 31], ['billing', false, 0]]);
  assert.is(seen[0]!.logDir, p.options.logDir);
  assert.equal(seen[0]!.threshold, { records: 10 });
  await c.close();
  await p.close();
});

test('lagThreshold: bad values are ERR_INVALID_OPTION', async () => {
  const logDir = tempDir();
  const bad = [{}, { records: 0 }, { ms: -1 }, { records: 1.5 }, { recs: 3 }, 'many'];
  for (const lagThreshold of bad) {
    await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()), lagThreshold: lagThreshold as never }).then(
      () => assert.unreachable(`${JSON.stringify(lagThreshold)} was taken`),
      (e: { code?: string }) => assert.is(e.code, 'ERR_INVALID_OPTION', JSON.stringify(lagThreshold)),
    );
  }
});

test.run();
