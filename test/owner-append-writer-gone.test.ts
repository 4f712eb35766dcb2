/**
 * The owner's own append waiting for room in a full ring when the writer thread has ended without a
 * word (it died where none of its code runs: an abort, out of memory): the owner's thread is blocked
 * in that synchronous wait, so the thread's exit event cannot reach it. The wait must see the writer
 * gone within about a second and throw ERR_WRITER_FAILED, as an attached handle's does, not
 * ERR_LOG_FULL after appendTimeoutMs (which reads as a slow disk, and invites a retry that waits again).
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, Producer, SyncPolicy } from '../dist/index.js';
import { readRecords, rejectsWith, suite, tempDir, throwsWith } from './kit.js';
import { withFaults } from './faults.js';

const test = suite('owner-append-writer-gone');

test('an owner append waiting for room after the writer thread died: ERR_WRITER_FAILED, not ERR_LOG_FULL', async () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const appendTimeoutMs = 5000;
  // The writer thread ends in its first write of a segment after the arm: no failure path of its own runs.
  const p = await withFaults({ arm, rules: [{ op: 'writev', path: '\\.seg$', thread: 'writer', nth: 1, effect: { exitThread: true } }] }, () =>
    Producer.open({ logDir, syncPolicy: SyncPolicy.never(), appendTimeoutMs, ringBytes: 64 * 1024 }));
  p.append('before');
  await p.flush();
  writeFileSync(arm, '');
  const record = Buffer.alloc(1000, 0x61);
  let error: unknown = null;
  const t0 = performance.now();
  for (let i = 0; i < 200 && error === null; i++) {
    try { p.append(record); } catch (e) { error = e; }
  }
  const ms = performance.now() - t0;
  assert.is((error as { code?: string } | null)?.code, ErrorCode.WRITER_FAILED, String(error));
  assert.ok(ms < appendTimeoutMs, `the appends waited ${Math.round(ms)} ms, as long as appendTimeoutMs`);
  throwsWith(() => p.append('after'), ErrorCode.WRITER_FAILED);
  assert.is(p.error?.code, ErrorCode.WRITER_FAILED);
  await rejectsWith(p.flush(), ErrorCode.WRITER_FAILED);
  await rejectsWith(p.close(), ErrorCode.WRITER_FAILED);
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['before']);
});

test.run();
