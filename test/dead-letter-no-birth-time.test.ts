/**
 * The dead letters' dedup keys where a stat reports no birth time for the log directory. Two kinds of
 * file system: one whose statx has no birth time (NFSv3, ext4 with 128-byte inodes, many FUSE file
 * systems: Node reports 0), where ext4-like inode reuse gives a log directory made again at its path
 * the old one's device and inode; and a system without statx (an old kernel, a seccomp filter that
 * refuses it), where Node (libuv) reports the change time as the birth time, and the change time of a
 * log directory moves with every file made or removed in it. Node's fs.statSync is wrapped here (the
 * library imports it from node:fs, so syncBuiltinESMExports carries the wrapper to it) to report
 * each of these for the log directory.
 */
import * as assert from 'uvu/assert';
import fs, { realpathSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, SyncPolicy, Whence, decodeDeadLetter, resetCursor } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('dead-letter-no-birth-time');

const realStat = fs.statSync;

/** Makes fs.statSync of `dir` (a bigint stat) report what `edit` makes of it, until unwrap(). */
function wrapStat(dir: string, edit: (st: fs.BigIntStats) => Partial<fs.BigIntStats>): void {
  const wrapped = function statSync(this: unknown, ...args: unknown[]): unknown {
    const st = (realStat as (...a: unknown[]) => unknown).apply(this, args);
    if (args[0] !== dir || st === undefined || typeof (st as fs.BigIntStats).ino !== 'bigint') return st;
    const b = st as fs.BigIntStats;
    return Object.assign(Object.create(Object.getPrototypeOf(b) as object) as fs.BigIntStats, b, edit(b));
  };
  (fs as { statSync: unknown }).statSync = wrapped;
  syncBuiltinESMExports();
}

function unwrap(): void {
  (fs as { statSync: unknown }).statSync = realStat;
  syncBuiltinESMExports();
}

test.after.each(() => unwrap());

async function fill(logDir: string, texts: string[]): Promise<void> {
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always() });
  for (const t of texts) p.append(t);
  await p.close();
}

async function failAll(logDir: string, deadLetterDir: string): Promise<number> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('c'), retry: { maxAttempts: 1, deadLetterDir } });
  try {
    return (await c.nonblockingProcess(null, () => 'retry')).skipped;
  } finally {
    await c.close();
  }
}

async function letters(deadLetterDir: string): Promise<string[]> {
  const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...d.iter()].map((m) => { const l = decodeDeadLetter(m.data); return `${l.offset}:${Buffer.from(l.data).toString()}`; });
  } finally {
    await d.close();
  }
}

test('no birth time, the inode reused: the new log\'s record 0 is dead-lettered beside the old log\'s', async () => {
  const root = realpathSync(tempDir());
  const logDir = join(root, 'log');
  const deadLetterDir = join(root, 'dl');
  wrapStat(logDir, () => ({ ino: 4242n, birthtimeNs: 0n }));
  await fill(logDir, ['old-0']);
  assert.is(await failAll(logDir, deadLetterDir), 1);
  rmSync(logDir, { recursive: true });
  await fill(logDir, ['new-0']);
  assert.is(await failAll(logDir, deadLetterDir), 1);
  assert.equal(await letters(deadLetterDir), ['0:old-0', '0:new-0'], 'the new log\'s record has a dead letter of its own');
});

test('birth time read as the change time (no statx): a record failing again after a reset is dead-lettered once', async () => {
  const root = realpathSync(tempDir());
  const logDir = join(root, 'log');
  const deadLetterDir = join(root, 'dl');
  wrapStat(logDir, (st) => ({ birthtimeNs: st.ctimeNs }));
  await fill(logDir, ['a-0']);
  assert.is(await failAll(logDir, deadLetterDir), 1);
  await fill(logDir, ['a-1']); // a producer's lock file made and removed: the directory's change time moves
  await resetCursor(logDir, 'c', { to: 'oldest' });
  assert.is(await failAll(logDir, deadLetterDir), 2);
  assert.equal(await letters(deadLetterDir), ['0:a-0', '1:a-1'], 'record 0 is dead-lettered once');
});

test.run();
