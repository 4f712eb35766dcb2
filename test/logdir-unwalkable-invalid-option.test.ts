/**
 * A log directory path the system cannot walk (a symlink loop, a path through one, a name past 255
 * bytes, a path past 4,095 bytes) is bad input, as a path onto or through a file is: every entry
 * point refuses it with ERR_INVALID_OPTION naming the path's option (logDir; verifyLog's dir;
 * repairLog's backupDir), and
 * nothing is made. Producer.open (with or without acceptConnections), Producer.connect, verifyLog and
 * repairLog's backupDir said ERR_IO, while Consumer.open and the admin functions said
 * ERR_INVALID_OPTION for the same path.
 */
import * as assert from 'uvu/assert';
import { readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, Whence, deleteCursor, inspectLog, repairLog, resetCursor, unlockLog, verifyLog } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('logdir-unwalkable-invalid-option');

const closeIt = async (r: unknown): Promise<void> => {
  if (r !== null && typeof r === 'object' && typeof (r as { close?: unknown }).close === 'function') await (r as { close(): Promise<void> }).close();
};

test('a symlink loop or too long a path: ERR_INVALID_OPTION naming the option at every entry point, nothing made', async () => {
  const base = tempDir();
  symlinkSync('loop', join(base, 'loop'));
  const paths: Record<string, string> = {
    'a symlink loop': join(base, 'loop'),
    'a path through a symlink loop': join(base, 'loop', 'log'),
    'a name past 255 bytes': join(base, 'n'.repeat(256)),
    'a path past 4,095 bytes': join(base, ...Array.from({ length: 24 }, () => 'p'.repeat(200))),
  };
  const calls: Record<string, [string, (dir: string) => Promise<unknown>]> = {
    'Producer.open': ['logDir', (logDir) => Producer.open({ logDir })],
    // A path too long for a socket is refused first, naming acceptConnections (test/funnel-limits.test.ts).
    'Producer.open acceptConnections': ['logDir|acceptConnections', (logDir) => Producer.open({ logDir, acceptConnections: true })],
    'Producer.connect': ['logDir', (logDir) => Producer.connect({ logDir })],
    'Consumer.open nonTx': ['logDir', (logDir) => Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) })],
    'Consumer.open clientTx': ['logDir', (logDir) => Consumer.open({ logDir, style: ConsumerStyle.clientTx('c') })],
    inspectLog: ['logDir', (dir) => inspectLog(dir)],
    resetCursor: ['logDir', (dir) => resetCursor(dir, 'c', { to: Whence.oldest() } as never)],
    deleteCursor: ['logDir', (dir) => deleteCursor(dir, 'c')],
    unlockLog: ['logDir', (dir) => unlockLog(dir)],
    repairLog: ['logDir', (dir) => repairLog(dir)],
    verifyLog: ['dir', (dir) => verifyLog(dir)],
  };
  const logDir = join(base, 'log');
  await (await Producer.open({ logDir })).close();
  calls['repairLog backupDir'] = ['backupDir', (backupDir) => repairLog(logDir, { backupDir })];
  const before = readdirSync(base).sort().join(',');
  const wrong: string[] = [];
  for (const [what, path] of Object.entries(paths)) {
    for (const [name, [option, call]] of Object.entries(calls)) {
      const outcome = await call(path).then(async (r) => { await closeIt(r); return 'accepted'; }, (e: Error & { code?: string; details?: { option?: string } }) =>
        (e.code === 'ERR_INVALID_OPTION' && option.split('|').includes(String(e.details?.option)) ? 'ok' : `${e.code} (option ${e.details?.option}): ${e.message.slice(0, 100)}`));
      if (outcome !== 'ok') wrong.push(`${name} on ${what}: ${outcome}`);
      assert.is(readdirSync(base).sort().join(','), before, `${name} on ${what}: nothing made`);
    }
  }
  assert.equal(wrong, []);
});

test.run();
