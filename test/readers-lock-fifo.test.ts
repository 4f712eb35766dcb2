/**
 * The readers lock opens durable.offset the way every other open of a log file does (nodeFileIO.open:
 * O_NONBLOCK, then only a regular file passes). A FIFO left at that name made Consumer.open's plain
 * open(2) block its thread for good; now the open is refused with a coded error. The open runs in a
 * child process, so that a thread blocked in open(2) fails the test by its timeout instead of hanging it.
 */
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Producer } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('readers-lock-fifo');
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

test('a FIFO at durable.offset: Consumer.open is refused with a coded error, it does not block', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  p.append('a record');
  await p.flush();
  await p.close();
  rmSync(join(logDir, 'durable.offset'));
  execFileSync('mkfifo', [join(logDir, 'durable.offset')]);
  const script = `
    const { Consumer, ConsumerStyle, Whence } = await import(${JSON.stringify(DIST)});
    try {
      const c = await Consumer.open({ logDir: ${JSON.stringify(logDir)}, style: ConsumerStyle.nonTx(Whence.oldest()) });
      await c.close();
      console.log('opened');
    } catch (e) {
      console.log('refused ' + e.code);
    }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.is(r.signal, null, `the child was killed (${String(r.signal)}): its open blocked`);
  assert.match(r.stdout.trim(), /^refused ERR_/, `stdout: ${r.stdout} stderr: ${r.stderr}`);
});

test.run();
