/**
 * Directory entries that records depend on are durable before those records are acknowledged
 * (reliability.md: a new or renamed file's entry is durable only after an fsync of its directory):
 * - a process killed in a roll, after the new segment's rename and before the directory fsync: the
 *   next open's recovery fsyncs the directory, so records appended into that segment and flushed
 *   survive a power loss (crash simulator);
 * - a new log directory is fsynced in its parent: a power loss after flush() keeps the log
 *   (crash simulator, and Producer.open on a new nested directory, traced through the file layer).
 */
import * as assert from 'uvu/assert';
import { SimFS } from './sim/sim-fs.js';
import { Clock, LOG_DIR, SimLog, payload, simOptions } from './sim/sim-log.js';
import { SyncPolicy } from '../src/producer/options.js';
import { recoverLog } from '../src/storage/recovery.js';
import { fsyncDir } from '../src/storage/file-io.js';
import { dirname, join } from 'node:path';
import { Producer } from '../dist/index.js';
import { clearFaults, readTrace, setFaults } from './faults.js';
import { prng, suite, tempDir } from './kit.js';

const test = suite('dir-durability');

class Killed extends Error {}

/** A SimFS whose process "dies" (throws, leaving the page cache as it is) at the next fsync of `killAtDirFsync`. */
class KillableFS extends SimFS {
  killAtDirFsync: string | null = null;
  private dirFds = new Map<number, string>();
  override open(path: string, flags: Parameters<SimFS['open']>[1]): number {
    const fd = super.open(path, flags);
    if (flags === 'dir') this.dirFds.set(fd, path);
    return fd;
  }
  override fsync(fd: number): void {
    if (this.killAtDirFsync !== null && this.dirFds.get(fd) === this.killAtDirFsync) {
      this.killAtDirFsync = null;
      throw new Killed('process killed before the directory fsync');
    }
    super.fsync(fd);
  }
}

test('a process killed between a roll\'s rename and its directory fsync: the next run\'s flushed records survive a power loss', () => {
  const opts = simOptions(SyncPolicy.always());
  const clock = new Clock();
  const fs = new KillableFS();
  const log1 = new SimLog(fs, opts, clock);
  fsyncDir(fs, '/sim'); // keep the log directory itself out of this case (see the next test)
  for (let i = 0; i < 12; i++) log1.append(payload(i, 1, 100)); // > fileRollSize (1 KiB): a roll
  fs.killAtDirFsync = LOG_DIR;
  let killed = false;
  try { log1.pump(); } catch (e) { if (!(e instanceof Killed)) throw e; killed = true; }
  assert.ok(killed, 'the roll reached its directory fsync');
  // Restart (same boot: the page cache holds everything written). Recovery, then new records, flushed.
  const log2 = new SimLog(fs, opts, clock);
  const base = log2.nextOffsetAtOpen;
  for (let i = 0; i < 3; i++) log2.append(payload(base + i, 2, 20));
  log2.flush();
  const acked = log2.durable;
  assert.is(acked, base + 3, 'flush made the 3 records durable');
  // Power loss: whatever was not made durable is lost.
  const after = fs.crashState('lose-all', prng(1));
  after.mkdirp(LOG_DIR);
  let end: number | string;
  try { end = recoverLog(after, LOG_DIR, opts.indexIntervalBytes, clock.now()).nextOffset; } catch (e) { end = `${(e as { code?: string }).code}: ${(e as Error).message}`; }
  assert.ok(typeof end === 'number' && end >= acked, `flush() acknowledged records below ${acked}; after the power loss recovery gives ${String(end)}`);
});

test('a new log directory is made durable in its parent: a power loss after flush() keeps the log', () => {
  const opts = simOptions(SyncPolicy.always());
  const clock = new Clock();
  const fs = new SimFS();
  const log = new SimLog(fs, opts, clock); // io.mkdirp(logDir) as openWriter does, then recovery creates segment 0
  for (let i = 0; i < 3; i++) log.append(payload(i, 1, 20));
  log.flush();
  assert.is(log.durable, 3);
  const after = fs.crashState('lose-all', prng(1));
  assert.ok(after.exists(LOG_DIR), `${LOG_DIR} is gone after the power loss, with 3 records whose flush() resolved`);
});

test('Producer.open of a new directory fsyncs the parent that holds its entry', async () => {
  const root = tempDir();
  const trace = join(root, 'trace.txt');
  const logDir = join(root, 'new', 'log');
  setFaults({ rules: [], trace });
  try {
    const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
    p.append('x');
    await p.flush();
    await p.close();
  } finally {
    clearFaults();
  }
  const syncs = readTrace(trace).filter((l) => l.op === 'fsync' || l.op === 'fdatasync').map((l) => l.path);
  assert.ok(syncs.includes(dirname(logDir)), `fsynced: ${syncs.join(', ')}; never ${dirname(logDir)}, which holds the new entry "log"`);
  assert.ok(syncs.includes(root), `never ${root}, which holds the new entry "new"`);
});

test.run();
