/**
 * A clean process.exit() while an attached handle is inside an append: the exit hook stores CLOSING
 * without the append lock, and the writer waits for the lock's holder before its last drain, so every
 * record whose append returned an offset is in the log. The fixture's worker runs at nice 19 so that
 * it is descheduled in the middle of its appends, as on a busy machine.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer } from '../dist/index.js';
import { suite, tempDir } from './kit.js';

const test = suite('exit-attached-append');
const FIXTURE = new URL('./fixtures/exit-attached-append.mjs', import.meta.url).pathname;

test('an attached append acknowledged before a clean process.exit is in the log', async () => {
  const size = Number(process.env.SIZE ?? 4 * 1024 * 1024);
  let lost = 0;
  const runs = Number(process.env.RUNS ?? 6);
  for (let i = 0; i < runs; i++) {
    const logDir = tempDir();
    const out = join(tempDir(), 'out.json');
    const r = spawnSync(process.execPath, [FIXTURE, logDir, out, String(size), process.env.KIND ?? 'text'], { encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 0, r.stderr);
    const { acked } = JSON.parse(readFileSync(out, 'utf8')) as { acked: number };
    const p = await Producer.open({ logDir });
    const end = p.nextOffset;
    await p.close();
    console.log(`run ${i}: acked up to ${acked}, log holds ${end}`);
    if (end < acked) lost++;
  }
  assert.is(lost, 0, `runs where an acknowledged record was missing after a clean exit: ${lost}/${runs}`);
});

test.run();
