/**
 * close() right after a pool call starts, while the pool's threads are still importing the handler
 * module: Node 20's module loader reads a module's file through an fs/promises FileHandle, and a
 * thread stopped during that read leaves the descriptor open in the process. The threads' imports
 * finish (up to timeoutMs after the stop) before the pool stops them, so no descriptor is left.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { POOL_LOG, guarded, openFds } from './pool-kit.js';
import { suite, logOf, tempDir } from './kit.js';

const test = suite('pool close import fd');

test('open, start a pool call and close at once, 10 times: no descriptor of a module file is left open', async () => {
  if (!existsSync('/proc/self/fd')) return; // descriptors are counted in /proc
  const logDir = await logOf(20, POOL_LOG);
  const dir = tempDir();
  const path = join(dir, 'handler.mjs');
  writeFileSync(path, 'export default () => \'commit\';\n');
  const before = openFds();
  for (let i = 0; i < 10; i++) {
    const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('import-fd') });
    const call = c.blockingProcess(null, path, { workers: 2, timeoutMs: 5_000 }).then((v) => v, (e: unknown) => e as Error);
    const closed = await guarded(c.close().then(() => 'closed' as const));
    assert.ok(closed !== 'stuck', `close() did not return (round ${i})`);
    const s = await call;
    assert.ok(!(s instanceof Error), `the call failed: ${String(s)}`);
  }
  const leaked = [...openFds()].filter(([fd, what]) => before.get(fd) !== what && what.endsWith('.mjs'));
  assert.equal(leaked, [], `module files left open after 10 rounds: ${leaked.map(([fd, what]) => `${fd} -> ${what}`).join(', ')}`);
});

test.run();
