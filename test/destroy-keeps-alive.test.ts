/**
 * An awaited `producer.destroy()` keeps the process alive until its promise settles, as an awaited
 * `close()` does: the writer thread is unref'd, and a control call that settled during the
 * destroy unref'd it again, so the process could end (exit code 13, an unsettled top-level await)
 * before the thread's exit resolved destroy(), the code after it never run and the lock not released.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite, tempDir } from './kit.js';

const test = suite('destroy-keeps-alive');
const FIXTURE = fileURLToPath(new URL('./fixtures/destroy-awaited.mjs', import.meta.url));

test('await destroy() with a control call in flight, nothing else in the event loop: the process runs on after it', () => {
  const dir = tempDir();
  const rounds = 30;
  const r = spawnSync(process.execPath, [FIXTURE, dir, String(rounds)], { encoding: 'utf8', timeout: 120_000 });
  const { ended } = JSON.parse(r.stdout.trim()) as { ended: number };
  assert.is(ended, rounds, `the process ended after ${ended} of ${rounds} destroy() calls, exit code ${r.status}; ${r.stderr}`);
  assert.is(r.status, 0, r.stderr);
  for (let i = 0; i < rounds; i++) assert.not.ok(readdirSync(join(dir, `log-${i}`)).includes('producer.lock'), `log-${i} still holds its producer.lock`);
});

test.run();
