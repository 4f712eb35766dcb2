/**
 * A logDir with '..' after a symbolic link names the parent of the link's target, as the system
 * resolves it (test/open-relative-chdir.test.ts). The funnel cleaned such a path by text: a client
 * given the owner's own logDir connected to another log's socket, where its appends resolved, and
 * the owner's check of its socket path's length measured another path than the one it listens on,
 * so a path too long was refused only after the log was made.
 */
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, Producer } from '../dist/index.js';
import { readTexts, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('funnel-dotdot-path');

test("Producer.connect with the owner's logDir reaches the owner, not the log at the path cleaned by text", async () => {
  const base = tempDir();
  mkdirSync(join(base, 'deep', 'target'), { recursive: true });
  symlinkSync(join(base, 'deep', 'target'), join(base, 'L'));
  const logDir = join(base, 'L') + '/../log'; // the system: base/deep/log; by text: base/log
  const owner = await Producer.open({ logDir, acceptConnections: true });
  const other = await Producer.open({ logDir: join(base, 'log'), acceptConnections: true });
  try {
    const r = await Producer.connect({ logDir });
    assert.is(await r.append('meant for L/../log'), 0);
    await r.flush();
    await r.close();
  } finally {
    await other.close();
    await owner.close();
  }
  assert.equal(await readTexts(join(base, 'deep', 'log')), ['meant for L/../log']);
  assert.equal(await readTexts(join(base, 'log')), []);
});

test('a socket path too long through L/..: refused before the directory is made', async () => {
  const base = tempDir();
  const long = join(base, 'a'.repeat(90));
  mkdirSync(join(long, 'target'), { recursive: true });
  symlinkSync(join(long, 'target'), join(base, 'L'));
  const logDir = join(base, 'L') + '/../log'; // the system: long/log, whose socket path passes 107 bytes
  await rejectsWith(Producer.open({ logDir, acceptConnections: true }), ErrorCode.INVALID_OPTION);
  assert.not.ok(existsSync(join(long, 'log')), 'no log made');
});

test.run();
