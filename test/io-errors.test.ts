/**
 * A write or fsync error is terminal for the producer: a coded LogError on the handle, no more records
 * accepted, nothing acknowledged durable that the failed fsync covered (the fsync is never retried), and
 * the log reopens to a valid prefix. Injected through the writer's file layer, and a real ENOSPC on a
 * small tmpfs where this machine allows mounting one.
 */
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, verifyLog, formatVerifyReport } from '../dist/index.js';
import { suite, tempDir, rejectsWith, throwsWith, waitFor } from './kit.js';
import { clearFaults, setFaults, withFaults, type FaultOp, type FaultPlan } from './faults.js';

const test = suite('io-errors');

/** A fault on segment files, counted from the moment `arm` (a file path) exists. */
function segmentFault(op: FaultOp, nth: number, errno: string, arm: string): FaultPlan {
  return { rules: [{ op, path: '\\.seg$', nth, persistent: true, effect: { errno } }], arm };
}

async function countRecords(logDir: string): Promise<number> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  let n = 0;
  for (const m of c.iter()) {
    assert.is(Buffer.from(m.data).toString(), `r${m.offset}`);
    n++;
  }
  await c.close();
  return n;
}

test('fsync EIO: flush rejects, durableOffset stays, appends stop, the fsync is not retried', async () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  // Under never the writer fsyncs only when asked, so the test decides which fsync fails.
  const p = await withFaults(segmentFault('fdatasync', 1, 'EIO', arm), () => Producer.open({ logDir, syncPolicy: SyncPolicy.never() }));
  for (let i = 0; i < 10; i++) p.append(`r${i}`);
  await p.flush();
  assert.is(p.durableOffset, 10);
  for (let i = 10; i < 20; i++) p.append(`r${i}`);
  await waitFor(() => p.writtenOffset === 20, 'records 10..19 to be written (not yet fsynced)');
  writeFileSync(arm, ''); // from now on every fdatasync of a segment fails
  const err = await rejectsWith(p.flush(), 'ERR_IO');
  assert.match(err.message, 'EIO');
  assert.is(p.durableOffset, 10, 'records whose fsync failed are never acknowledged');
  throwsWith(() => p.append('r20'), 'ERR_IO');
  await rejectsWith(p.flush(), 'ERR_IO');
  assert.is(p.error?.code, 'ERR_IO');
  await rejectsWith(p.close(), 'ERR_IO');
  // Reopening rescans the files: the log is a valid prefix holding at least the durable records.
  const q = await Producer.open({ logDir });
  assert.ok(q.nextOffset >= 10);
  await q.close();
  assert.is(await countRecords(logDir), q.nextOffset);
});

test('a failure while idle (retention cannot unlink a segment): a new flush() rejects, though every record is durable', async () => {
  // Every appended record is durable before the failure, so the durable offset already covers
  // nextOffset: flush() must still report the stopped writer, as append() and producer.error do.
  const logDir = tempDir();
  // Armed once the records are durable: on a slow machine retention (maxFileAge) can reach a segment
  // before flush() resolves, and the failure would not be the idle one this test is about. The age is
  // long enough (1 s) that a loaded machine does not delete every sealed segment before the arming,
  // which would leave retention nothing to fail on.
  const arm = join(tempDir(), 'arm');
  const rule = { op: 'unlink', path: '\\.seg$', thread: 'writer', nth: 1, persistent: true, effect: { errno: 'EIO' } } as const;
  const p = await withFaults({ rules: [rule], arm },
    () => Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: null, maxFileAge: 1_000 }));
  for (let i = 0; i < 40; i++) p.append(`r${i}-${'x'.repeat(60)}`);
  await p.flush();
  assert.is(p.durableOffset, 40);
  writeFileSync(arm, '');
  await waitFor(() => p.error !== null, 'retention to fail on the oldest segment');
  assert.is(p.error?.code, 'ERR_IO');
  throwsWith(() => p.append('more'), 'ERR_IO');
  assert.is(p.durableOffset, p.nextOffset, 'nothing is waiting to become durable');
  const err = await rejectsWith(p.flush(), 'ERR_IO');
  assert.match(err.message, 'EIO');
  await rejectsWith(p.close(), 'ERR_IO');
  await rejectsWith(p.flush(), 'ERR_LOG_CLOSED');
});

test('write ENOSPC: ERR_DISK_FULL on the handle, appends stop, the log reopens to a valid prefix', async () => {
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  writeFileSync(arm, '');
  const p = await withFaults(segmentFault('writev', 3, 'ENOSPC', arm), () => Producer.open({ logDir, syncPolicy: SyncPolicy.always() }));
  let accepted = 0;
  let durable = 0;
  try {
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 5; i++) {
        p.append(`r${p.nextOffset}`);
        accepted++;
      }
      await p.flush();
      durable = p.durableOffset;
    }
    assert.unreachable('the third write fails');
  } catch (e) {
    assert.is((e as { code: string }).code, 'ERR_DISK_FULL');
  }
  await waitFor(() => p.error !== null, 'the failure to reach the handle');
  throwsWith(() => p.append('more'), 'ERR_DISK_FULL');
  await rejectsWith(p.close(), 'ERR_DISK_FULL');
  const q = await Producer.open({ logDir });
  assert.ok(q.nextOffset >= durable && q.nextOffset <= accepted);
  q.append(`r${q.nextOffset}`); // appends resume after reopening
  await q.close();
  assert.is(await countRecords(logDir), q.nextOffset + 0);
});

test('ENOSPC then space freed: the failed producer stays failed; a reopen resumes and keeps every acknowledged record', async () => {
  // Decision: no resume on the failed handle. A write that hit ENOSPC may have left part of a frame, and
  // an fsync that reported ENOSPC may have dropped pages; only recovery (rescan, cut the torn tail) knows
  // where the valid log ends. So appends resume after reopening, never on the same handle.
  const logDir = tempDir();
  const arm = join(tempDir(), 'arm');
  const p = await withFaults(segmentFault('writev', 1, 'ENOSPC', arm), () => Producer.open({ logDir, syncPolicy: SyncPolicy.never() }));
  for (let i = 0; i < 10; i++) p.append(`r${i}`);
  await p.flush();
  writeFileSync(arm, ''); // the disk is full from now on
  p.append('r10');
  await rejectsWith(p.flush(), 'ERR_DISK_FULL');
  rmSync(arm); // space is freed
  throwsWith(() => p.append('r11'), 'ERR_DISK_FULL');
  await rejectsWith(p.flush(), 'ERR_DISK_FULL');
  assert.is(p.durableOffset, 10);
  await rejectsWith(p.close(), 'ERR_DISK_FULL');
  const q = await Producer.open({ logDir });
  assert.is(q.nextOffset, 10, 'the record whose write failed is not in the log');
  q.append('r10');
  await q.flush();
  await q.close();
  assert.is(await countRecords(logDir), 11);
});

test('a failed read of durable.offset during recovery is ERR_IO, not "no hint"', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  p.append('r0');
  await p.close();
  // Without the hint recovery could cut durable records as a torn tail: it must not go on blind.
  const rule = { op: 'open', path: 'durable\\.offset$', thread: 'writer', nth: 1, effect: { errno: 'EIO' } } as const;
  await withFaults({ rules: [rule] }, () => rejectsWith(Producer.open({ logDir }), 'ERR_IO'));
  assert.is(await countRecords(logDir), 1);
});

test('EIO on retention\'s unlink: the log start the failed producer published is the one the log reopens with', async () => {
  const logDir = tempDir();
  const seg0 = `${'0'.padStart(20, '0')}.seg`;
  const p = await withFaults({ rules: [{ op: 'unlink', path: '\\.seg$', thread: 'writer', nth: 1, effect: { errno: 'EIO' } }] },
    () => Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: 2048 }));
  let i = 0;
  await rejectsWith(async () => {
    for (;;) {
      for (let k = 0; k < 10; k++) p.append(`r${i++}`);
      await p.flush();
    }
  }, 'ERR_IO');
  const told = p.logStartOffset;
  assert.ok(told > 0, 'retention raised the log start before its unlink failed');
  assert.ok(existsSync(join(logDir, seg0)), 'the failed unlink left segment 0');
  // A reader beside the failed producer starts where it said the log starts.
  const before = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  assert.is(before.position, told);
  await before.close();
  await rejectsWith(p.close(), 'ERR_IO');
  // verify names segment 0 as what the interrupted retention left, below the recorded start.
  const v = await verifyLog(logDir);
  assert.ok(v.ok, formatVerifyReport(v));
  assert.ok(v.findings.some((f) => f.kind === 'leftover' && f.file === seg0 && f.message.includes(`(${told})`)), formatVerifyReport(v));
  // Reopened (without retention, so nothing moves the start meanwhile): the same start, here and for a
  // consumer, and the log start never moves back.
  const q = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024, maxTotalBytes: null });
  try {
    assert.is(q.logStartOffset, told);
    assert.ok(q.recovery.removed.includes(seg0), `recovery completed the retention: ${JSON.stringify(q.recovery.removed)}`);
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    const first = [...c.iter()][0]!;
    assert.is(first.offset, told);
    assert.is(Buffer.from(first.data).toString(), `r${told}`);
    await c.close();
  } finally {
    await q.close();
  }
  assert.not.ok(existsSync(join(logDir, seg0)));
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  assert.is(c.position, told, 'a consumer from the files starts there too');
  await c.close();
});

test('lock errors are LogErrors, and a lock file a failed release left behind does not block this thread', async () => {
  const logDir = tempDir();
  const fdsBefore = readdirSync('/proc/self/fd').length;
  await withFaults({ rules: [{ op: 'tryLock', path: 'producer\\.lock$', nth: 1, effect: { errno: 'EIO' } }] },
    () => rejectsWith(Producer.open({ logDir }), 'ERR_IO'));
  assert.is(readdirSync('/proc/self/fd').length, fdsBefore, 'the lock file descriptor of the failed open is closed');
  // The handle's file layer reads the plan as it goes: armed only for the release at close.
  const arm = join(tempDir(), 'arm');
  setFaults({ rules: [{ op: 'unlink', path: 'producer\\.lock$', nth: 1, effect: { errno: 'EIO' } }], arm });
  try {
    const p = await Producer.open({ logDir });
    p.append('r0');
    writeFileSync(arm, '');
    await p.close();
  } finally {
    clearFaults();
  }
  assert.ok(existsSync(join(logDir, 'producer.lock')), 'the release failed, the file is still there');
  assert.is(readFileSync(join(logDir, 'producer.lock')).byteLength, 0, 'emptied: it names no stale owner');
  const q = await Producer.open({ logDir });
  assert.is(q.nextOffset, 1);
  await q.close();
});

test('reader errors are LogErrors; a newest segment without a whole header holds no record yet', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  for (let i = 0; i < 3; i++) p.append(`r${i}`);
  await p.close();
  await withFaults({ rules: [{ op: 'readdir', thread: 'main', nth: 1, effect: { errno: 'EIO' } }] },
    () => rejectsWith(Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) }), 'ERR_IO'));
  const arm = join(tempDir(), 'arm');
  setFaults({ rules: [{ op: '*', thread: 'main', nth: 1, persistent: true, effect: { errno: 'EIO' } }], arm });
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    const it = c.iter();
    for (let i = 0; i < 3; i++) assert.is(it.next().value?.offset, i);
    writeFileSync(arm, ''); // every file call of this thread fails from now on
    throwsWith(() => it.next(), 'ERR_IO');
    await c.close();
  } finally {
    clearFaults();
  }
  // What a roll that failed after creating the file leaves: an empty newest segment.
  writeFileSync(join(logDir, `${String(3).padStart(20, '0')}.seg`), '');
  assert.is(await countRecords(logDir), 3);
  const d = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.position(3)) });
  assert.is([...d.iter()].length, 0);
  await d.close();
});

test('a cursor file whose close(2) fails: close() rejects with ERR_IO, and the cursor is not left locked', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  for (let i = 0; i < 20; i++) p.append(`r${i}`);
  await p.close();
  const arm = join(tempDir(), 'arm');
  setFaults({ rules: [{ op: 'close', path: 'client\\.billing\\.cursor$', thread: 'main', nth: 1, effect: { errno: 'EIO' } }], arm });
  try {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
    await c.nonblockingProcess(5, () => 'commit');
    writeFileSync(arm, '');
    await rejectsWith(c.close(), 'ERR_IO');
  } finally {
    clearFaults();
  }
  const again = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  assert.is(again.nextOffset, 5, 'the commits before the failed close hold');
  await again.close();
});

test('real ENOSPC on a 256 KiB tmpfs (where mounting is allowed)', async () => {
  const mnt = tempDir('rlog-tmpfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    console.log('  (skipped: this machine does not allow mounting a tmpfs; the injected ENOSPC test above covers the path)');
    return;
  }
  try {
    const logDir = `${mnt}/log`;
    mkdirSync(logDir);
    const filler = `${mnt}/filler`;
    writeFileSync(filler, Buffer.alloc(48 * 1024)); // deleted later to free space
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 64 * 1024, maxTotalBytes: null });
    let durable = 0;
    const rec = 'x'.repeat(1000);
    try {
      for (;;) {
        for (let i = 0; i < 10; i++) p.append(rec);
        await p.flush();
        durable = p.durableOffset;
      }
    } catch (e) {
      assert.is((e as { code: string }).code, 'ERR_DISK_FULL');
    }
    assert.ok(durable > 50, `stored ${durable} records before the disk filled`);
    await p.close().catch(() => undefined);
    // Reopen on the full disk: recovery cuts the partial tail; every durable record is still there.
    const q = await Producer.open({ logDir, maxTotalBytes: null });
    assert.ok(q.nextOffset >= durable, `reopened with ${q.nextOffset} records, ${durable} were durable`);
    // Space freed: the reopened producer appends again.
    rmSync(filler);
    const before = q.nextOffset;
    for (let i = 0; i < 10; i++) q.append(rec);
    await q.flush();
    assert.is(q.durableOffset, before + 10);
    await q.close();
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

test.run();
