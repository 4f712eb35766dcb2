/**
 * A write or fsync error is terminal for the producer: a coded LogError on the handle, no more records
 * accepted, nothing acknowledged durable that the failed fsync covered (the fsync is never retried), and
 * the log reopens to a valid prefix. Injected through the writer's file layer, and a real ENOSPC on a
 * small tmpfs where this machine allows mounting one.
 */
import { test as rawTest } from 'uvu';
import { readableErrors } from './readable-errors.js';
const test = readableErrors(rawTest);
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy } from '../dist/index.js';
import { tempDir, cleanupTempDirs, rejectsWith, throwsWith, waitFor } from './helpers.js';
import { withFaults, type FaultOp, type FaultPlan } from './faults.js';

test.after(cleanupTempDirs);

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
    await q.close();
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

test.run();
