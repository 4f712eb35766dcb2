/**
 * After a power loss the newest segment may end in a torn tail whose later frames reached the disk
 * while an earlier one did not (zero-filled): no frame after it carries a durable position past it,
 * so recovery cuts it as a torn tail. A reader that meets it while a producer holds the lock but has
 * not run its recovery yet (the producer and its consumers started together after the reboot) must
 * judge it as recovery does, not call it damage because "a live writer writes frames in order".
 */
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';
import { encodeHint, parseSegment } from './corruption-kit.js';

const test = suite('reader-torn-tail-live-lock');

/** 10 durable records, then 3 frames never fsynced; the first of those zero-filled as a power loss leaves it. */
async function powerLossLog(): Promise<{ logDir: string; durable: number; tornAt: number }> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < 10; i++) p.append(`durable-${i}`);
  await p.flush();
  const durable = p.durableOffset;
  for (let i = 0; i < 3; i++) {
    p.append(`unsynced-${i}`);
    await waitFor(() => p.writtenOffset === p.nextOffset, 'the frame written');
  }
  await p.close();
  const seg = join(logDir, '00000000000000000000.seg');
  const b = readFileSync(seg);
  const layout = parseSegment('seg', b);
  const torn = layout.frames.find((f) => f.base === durable)!;
  assert.ok(torn !== undefined && layout.frames.at(-1)!.dp <= torn.pos, 'the later frames carry no durable position past the torn one');
  b.fill(0, torn.pos, torn.pos + torn.bytes);
  writeFileSync(seg, b);
  writeFileSync(join(logDir, 'durable.offset'), encodeHint(durable));
  return { logDir, durable, tornAt: torn.pos };
}

async function readAll(logDir: string): Promise<{ offsets: number[]; code: string | null }> {
  const offsets: number[] = [];
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    try {
      await c.nonblockingProcess(1000, (m) => { offsets.push(m.offset); return 'commit'; });
    } finally {
      await c.close();
    }
  } catch (e) {
    return { offsets, code: (e as { code?: string }).code ?? String(e) };
  }
  return { offsets, code: null };
}

test('a reader meets the torn tail while a producer holds the lock before its recovery: the end, as recovery judges it', async () => {
  const { logDir, durable, tornAt } = await powerLossLog();
  const alone = await readAll(logDir);
  assert.equal(alone, { offsets: Array.from({ length: durable }, (_, i) => i), code: null }, 'no producer: the torn tail is the end');

  // The producer that just took the lock (this process stands in for it) and has not cut the tail yet.
  const start = readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];
  writeFileSync(join(logDir, 'producer.lock'), JSON.stringify({ pid: process.pid, start, host: hostname(), thread: 0 }));
  const during = await readAll(logDir);
  assert.equal(during, { offsets: Array.from({ length: durable }, (_, i) => i), code: null }, 'a producer in its recovery: the torn tail is still the end');

  writeFileSync(join(logDir, 'producer.lock'), '');
  const p = await Producer.open({ logDir });
  assert.is(p.recovery.truncated?.position, tornAt, 'recovery cuts it as a torn tail');
  await p.close();
});

test.run();
