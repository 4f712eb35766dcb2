/**
 * consumer.lag(): records, bytes and ms behind the end the consumer may read (the written end for
 * nonTx with the default visibility, the durable end for the transactional styles), checked against
 * the files and the records' timestamps; zero when caught up; ERR_LOG_CLOSED after close.
 */
import * as assert from 'uvu/assert';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { suite, logOf, tempDir, throwsWith, waitFor } from './kit.js';

const test = suite('lag');

/** The bytes of the frames in every segment: the files' sizes less their 32-byte headers. */
function frameBytes(dir: string): number {
  return readdirSync(dir).filter((n) => n.endsWith('.seg')).reduce((n, f) => n + statSync(join(dir, f)).size - 32, 0);
}

test('a nonTx consumer: records, bytes and ms behind the end, shrinking as it reads, zero at the end', async () => {
  const logDir = await logOf(300, { fileRollSize: 2048, flushAfter: (i) => i % 10 === 9 });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const all = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  const stamps = [...all.iter()].map((m) => m.timestamp);
  await all.close();
  const first = c.lag();
  assert.is(first.records, 300);
  assert.ok(readdirSync(logDir).filter((n) => n.endsWith('.seg')).length > 1, 'several segments');
  assert.is(first.bytes, frameBytes(logDir), 'every frame byte, no segment header');
  assert.is(first.ms, stamps[299]! - stamps[0]!);
  const it = c.iter();
  for (let i = 0; i < 120; i++) it.next();
  it.return(undefined);
  // The 120th record (offset 119) was handed out and not completed (the loop did not ask for the
  // next one): it is the next record the consumer hands out.
  assert.is(c.nextOffset, 119);
  const mid = c.lag();
  assert.is(mid.records, 181);
  assert.ok(mid.bytes > 0 && mid.bytes < first.bytes, JSON.stringify(mid));
  assert.is(mid.ms, stamps[299]! - stamps[119]!);
  for (const _ of c.iter()) { /* read to the end */ }
  assert.equal(c.lag(), { records: 0, bytes: 0, ms: 0 });
  await c.close();
  throwsWith(() => c.lag(), 'ERR_LOG_CLOSED');
});

test('a transactional consumer counts durable records only; in-process appends show as they are fsynced', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < 50; i++) p.append(`r${i}`);
  await p.flush();
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('lagging') });
  assert.is(c.lag().records, 50);
  for (let i = 0; i < 25; i++) p.append(`s${i}`);
  await waitFor(() => p.writtenOffset === 75, 'the records to be written');
  assert.is(c.lag().records, 50, 'written, not yet durable: not counted');
  await p.flush();
  assert.is(c.lag().records, 75);
  await c.nonblockingProcess(30, () => 'commit');
  assert.is(c.lag().records, 45);
  await c.close();
  await p.close();
});

test.run();
