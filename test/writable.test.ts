/**
 * producer.writable(): waits without blocking the event loop until the ring has room for a record,
 * while the writer is held inside a slow write; an abort ends the wait with ERR_ABORTED; bad sizes
 * and a closed producer are coded errors. Consumer.open({ signal }): an aborted signal fails the open
 * with ERR_ABORTED and leaves the directory untouched.
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence } from '../dist/index.js';
import { readTrace, withFaults } from './faults.js';
import { digestDir, logOf, rejectsWith, suite, tempDir, waitFor, readTexts } from './kit.js';

const test = suite('writable');
const RING = 64 * 1024;
const RECORD = Buffer.alloc(1000, 0x72);
/** Larger than the room left by heldAndFull(): 2 records' worth. */
const BIG = Buffer.alloc(2 * RECORD.length + 8, 0x62);

/** A producer whose writer is held 1.5 s in its next segment write once armed, with less than 2 records of room left in its ring. */
async function heldAndFull(): Promise<{ p: Producer; logDir: string; trace: string; appended: number }> {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const trace = join(tempDir(), 'trace');
  const plan = { rules: [{ op: 'writev' as const, path: '\\.seg$', thread: 'writer' as const, nth: 1, effect: { delayMs: 1500 } }], arm, trace };
  const p = await withFaults(plan, () => Producer.open({ logDir, syncPolicy: SyncPolicy.never(), ringBytes: RING }));
  p.append('first');
  await waitFor(() => p.writtenOffset === 1, 'the first record to be written');
  writeFileSync(arm, '');
  p.append(RECORD); // the writer takes it and is held in its write
  await waitFor(() => readTrace(trace).some((l) => l.fired), 'the writer to enter the held write');
  let appended = 2;
  // Fill while one more record surely fits (with the bytes before the ring's end skipped, at most twice its size).
  while (p.stats().ringBytes + 2 * (RECORD.length + 4) <= RING) {
    p.append(RECORD);
    appended++;
  }
  return { p, logDir, trace, appended };
}

test('writable() waits for room while the writer is held, then the append needs no wait', async () => {
  const { p, logDir, appended } = await heldAndFull();
  let settled = false;
  const room = p.writable({ bytes: BIG.length }).then(() => { settled = true; });
  await new Promise((r) => setImmediate(r));
  assert.is(settled, false, 'no room while the writer is held');
  assert.is(p.writtenOffset, 1, 'the writer is still held');
  await room;
  assert.ok(p.writtenOffset > 1, 'room came from the writer writing');
  const stamp = p.nextOffset;
  assert.is(p.append(BIG), stamp);
  await p.close();
  assert.is((await readTexts(logDir)).length, appended + 1);
});

test('writable({ signal }): an abort ends the wait with ERR_ABORTED; the producer goes on', async () => {
  const { p, logDir, appended } = await heldAndFull();
  const controller = new AbortController();
  const reason = new Error('gave up');
  const room = p.writable({ bytes: BIG.length, signal: controller.signal });
  controller.abort(reason);
  const err = await rejectsWith(room, 'ERR_ABORTED');
  assert.is((err as Error & { cause?: unknown }).cause, reason);
  await p.writable({ bytes: RECORD.length });
  p.append('after');
  await p.close();
  assert.is((await readTexts(logDir)).length, appended + 1);
});

test('writable(): bad sizes are ERR_INVALID_OPTION, a closed producer ERR_LOG_CLOSED', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), ringBytes: RING });
  await p.writable(); // an empty ring has room
  await rejectsWith(p.writable({ bytes: -1 }), 'ERR_INVALID_OPTION');
  await rejectsWith(p.writable({ bytes: RING }), 'ERR_INVALID_OPTION'); // above maxRecordBytes
  await rejectsWith(p.writable({ bytes: 1.5 }), 'ERR_INVALID_OPTION');
  await rejectsWith(p.writable({ signal: 'no' as never }), 'ERR_INVALID_OPTION');
  await p.close();
  await rejectsWith(p.writable(), 'ERR_LOG_CLOSED');
});

test('Consumer.open({ signal }) aborted: ERR_ABORTED, no cursor made; a bad signal is ERR_INVALID_OPTION', async () => {
  const logDir = await logOf(5);
  const before = digestDir(logDir);
  const controller = new AbortController();
  controller.abort(new Error('stop'));
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing'), signal: controller.signal }), 'ERR_ABORTED');
  await rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()), signal: {} as never }), 'ERR_INVALID_OPTION');
  assert.is(digestDir(logDir), before, 'nothing written');
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()), signal: new AbortController().signal });
  assert.is([...c.iter()].length, 5);
  await c.close();
});

test.run();
