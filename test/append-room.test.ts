/**
 * Room in the ring as append and writable() reckon it: a string that fits is appended without
 * waiting for the room its worst-case UTF-8 size would take (a 2,000-byte string right after
 * writable({ bytes: 2000 })), a string past maxRecordBytes is ERR_RECORD_TOO_LARGE at once, and
 * writable() does not resolve for a record that must wrap and wait for the whole ring to drain.
 * Also: a Uint8Array of another realm (node:vm) is bytes, and destroy(value) with a value that is not
 * an Error rejects a waiting flush with ERR_LOG_CLOSED.
 */
import * as assert from 'uvu/assert';
import vm from 'node:vm';
import { Producer, SyncPolicy } from '../dist/index.js';
import { readRecords, rejectsWith, suite, tempDir, throwsWith } from './kit.js';

const test = suite('append-room');

test('a 2,000-byte ASCII string after writable({ bytes: 2000 }) resolved', async () => {
  const logDir = tempDir();
  // A log past maxTotalBytes whose segments are all young: the writer holds every new record back.
  const a = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: null });
  for (let i = 0; i < 20; i++) a.append(Buffer.alloc(500, 1));
  await a.close();
  const ringBytes = 64 * 1024;
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 4096, blockingMinimumRetention: 3_600_000, ringBytes, appendTimeoutMs: 300 });
  try {
    p.append(Buffer.alloc(60_000, 2)); // 60,004 ring bytes used; 5,532 free, contiguous up to the ring's end
    await p.writable({ bytes: 2000, signal: AbortSignal.timeout(2000) }); // resolves at once: the room is there
    const asBuffer = Buffer.from('a'.repeat(2000));
    let err: Error & { code: string } | null = null;
    try {
      p.append('a'.repeat(2000));
    } catch (e) {
      err = e as Error & { code: string };
    }
    assert.is(err, null, 'append of a 2,000-byte string after writable({ bytes: 2000 }) resolved');
    p.append(asBuffer);
  } finally {
    await p.destroy();
  }
});

test('a 4,000-char string over maxRecordBytes on a held-back writer: ERR_RECORD_TOO_LARGE at once, as bytes', async () => {
  const logDir = tempDir();
  const a = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: null });
  for (let i = 0; i < 20; i++) a.append(Buffer.alloc(500, 1));
  await a.close();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 4096, blockingMinimumRetention: 3_600_000, ringBytes: 64 * 1024, maxRecordBytes: 100, appendTimeoutMs: 300 });
  try {
    for (let i = 0; i < 600; i++) p.append(Buffer.alloc(96, 2)); // 60,000 ring bytes used
    throwsWith(() => p.append(Buffer.alloc(4000)), 'ERR_RECORD_TOO_LARGE'); // bytes: refused at once
    let code = 'none';
    try { p.append('x'.repeat(4000)); } catch (e) { code = (e as { code: string }).code; }
    assert.is(code, 'ERR_RECORD_TOO_LARGE');
  } finally {
    await p.destroy();
  }
});

test('writable() waits for a record that must wrap and wait for the whole ring to drain', async () => {
  const logDir = tempDir();
  const a = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: null });
  for (let i = 0; i < 20; i++) a.append(Buffer.alloc(500, 1));
  await a.close();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 4096, blockingMinimumRetention: 3_600_000, ringBytes: 64 * 1024, appendTimeoutMs: 300 });
  try {
    p.append(Buffer.alloc(40_000, 2)); // head at 40,004: 25,532 bytes free, all before the ring's end
    // Such a record fits only once the writer took everything before the wrap: held back, it never does.
    await rejectsWith(p.writable({ bytes: 44_996, signal: AbortSignal.timeout(500) }), 'ERR_ABORTED');
    await p.writable({ bytes: 25_000, signal: AbortSignal.timeout(2000) }); // one that fits before the end: at once
  } finally {
    await p.destroy();
  }
});

test('a Uint8Array made in another realm is appended as bytes', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  const bytes = vm.runInNewContext('new Uint8Array([104, 105])') as Uint8Array;
  assert.is(p.append(bytes), 0);
  assert.is(p.append('k', { key: vm.runInNewContext('new Uint8Array([1])') as Uint8Array }), 1);
  assert.is(p.appendBatch([bytes]), 2);
  await p.close();
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['hi', 'k', 'hi']);
});

test('destroy(value) with a value that is not an Error: a waiting flush rejects with ERR_LOG_CLOSED', async () => {
  const p = await Producer.open({ logDir: tempDir(), syncPolicy: SyncPolicy.always() });
  p.append('x');
  const flushing = p.flush().then(() => 'resolved', (e: unknown) => e);
  await p.destroy('a string' as unknown as Error);
  const got = await flushing;
  assert.ok(got === 'resolved' || (got instanceof Error && (got as { code?: string }).code === 'ERR_LOG_CLOSED'), String(got));
});

test.run();
