/**
 * A relative logDir names the directory it names when Producer.open is called: a process.chdir()
 * made after the call, before its promise settles, does not move the log (Consumer.open resolves
 * its logDir at the call too).
 */
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle, Producer, Whence } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('open-relative-chdir');

test('Producer.open of a relative logDir, then chdir before it settles: the log is made under the first directory', async () => {
  const home = tempDir();
  const elsewhere = tempDir();
  mkdirSync(join(home, 'sub'));
  const cwd = process.cwd();
  process.chdir(home);
  let p: Producer | null = null;
  try {
    const opening = Producer.open({ logDir: 'sub/log' });
    process.chdir(elsewhere);
    p = await opening;
    assert.not.ok(existsSync(join(elsewhere, 'sub')), `the log was made under the working directory of after the call: ${elsewhere} holds ${readdirSync(elsewhere).join(', ')}`);
    assert.ok(existsSync(join(home, 'sub', 'log')), 'the log is where the path named at the call');
    assert.is(p.options.logDir, realpathSync(join(home, 'sub', 'log')));
  } finally {
    process.chdir(cwd);
    await (p as Producer | null)?.close();
  }
});

test('a relative logDir with .. after a symbolic link: the producer and a consumer of the same path open the same directory', async () => {
  const home = tempDir();
  mkdirSync(join(home, 'real', 'inner'), { recursive: true });
  symlinkSync(join(home, 'real', 'inner'), join(home, 'link'));
  const cwd = process.cwd();
  process.chdir(home);
  let p: Producer | null = null;
  try {
    p = await Producer.open({ logDir: 'link/../log' });
    assert.is(p.options.logDir, realpathSync(join(home, 'real', 'log')), 'the system resolves the path: .. is the parent of the link\'s target');
    p.append('one');
    await p.flush();
    const c = await Consumer.open({ logDir: 'link/../log', style: ConsumerStyle.nonTx(Whence.oldest()) });
    try {
      assert.is(c.logId, p.options.logDir);
      assert.equal([...c.iter()].map((m) => Buffer.from(m.data).toString()), ['one']);
    } finally {
      await c.close();
    }
  } finally {
    process.chdir(cwd);
    await (p as Producer | null)?.close();
  }
});

test.run();
