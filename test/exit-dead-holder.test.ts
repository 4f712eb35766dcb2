/**
 * process.exit() after a worker thread stopped inside an append of a shared producer (terminated while
 * it held the append lock): the writer's last drain at close does not wait the lock's stall bound
 * (appendTimeoutMs + 2 s) for that holder, whose OS thread is gone, and the exit hook's close ends
 * well within its own bound (10 s); the record flushed before is there.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Producer } from '../dist/index.js';
import { readRecords, suite, tempDir } from './kit.js';

const test = suite('exit-dead-holder');
const FIXTURE = fileURLToPath(new URL('./fixtures/exit-dead-holder.mjs', import.meta.url));

test('process.exit() with a dead holder of the append lock ends without waiting the lock\'s bound', async () => {
  const logDir = tempDir();
  const r = spawnSync(process.execPath, [FIXTURE, logDir], { encoding: 'utf8', timeout: 60_000 });
  const end = Date.now();
  assert.is(r.status, 0, r.stderr);
  const { exitAt } = JSON.parse(r.stdout.trim()) as { exitAt: number };
  // The bound the fix removes is appendTimeoutMs (10 s) + 2 s, cut short by the exit hook's 10 s.
  assert.ok(end - exitAt < 5000, `process.exit() took ${end - exitAt} ms`);
  assert.equal((await readRecords(logDir)).map((r) => r.text), ['before']);
  const p = await Producer.open({ logDir });
  assert.is(p.nextOffset, 1);
  await p.close();
});

test.run();
