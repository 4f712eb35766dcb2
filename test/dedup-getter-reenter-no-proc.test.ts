/**
 * A shared owner's append whose dedupKey getter appends through the same handle. Where /proc names
 * threads, the lock word shows the inner append that its own thread holds the lock, and it is refused
 * (ERR_INVALID_RECORD). Where it does not (no /proc: another system, a sandbox), the inner append
 * waited for a lock its own thread held and failed the log with ERR_PRODUCER_STALLED after 2 s: the
 * dedupKey was read without the handle marking itself as reading its options, as the key and the
 * headers are. Both now refuse it at once. The second case runs in a mount namespace whose /proc is
 * empty (unshare, as root); where that cannot be made, it is skipped with a printed reason.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { suite, tempDir } from './kit.js';

const test = suite('dedupKey getter appending through its handle');
const CHILD = fileURLToPath(new URL('./fixtures/dedup-getter-reenter.mjs', import.meta.url));
const expected = { inner: 'ERR_INVALID_RECORD', outer: 0, error: null };

test('with /proc: the inner append is refused, the outer goes on', () => {
  const r = spawnSync(process.execPath, [CHILD, tempDir()], { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal({ ...got, proc: undefined }, { ...expected, proc: undefined });
});

test('without /proc (a mount namespace with an empty /proc): the inner append is refused at once too', () => {
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs none /proc && echo ok'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.status !== 0 || probe.stdout.trim() !== 'ok') {
    process.stdout.write(`#   SKIPPED: cannot make a mount namespace without /proc here (${(probe.stderr || String(probe.error)).trim()})\n`);
    return;
  }
  const r = spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs none /proc && exec "${process.execPath}" "${CHILD}" "${tempDir()}"`], { encoding: 'utf8', timeout: 30_000 });
  assert.is(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.is(got.proc, false, 'the child ran without /proc/thread-self');
  assert.equal({ ...got, proc: undefined }, { ...expected, proc: undefined });
});

test.run();
