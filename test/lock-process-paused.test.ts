/**
 * A pause of the whole process (SIGSTOP, then SIGCONT: Ctrl-Z, `docker pause`, a frozen cgroup)
 * longer than appendTimeoutMs + 2 s while attached threads contend for the append lock: the holder
 * stopped with every other thread, so it is not stuck inside its append. A waiter that counted the
 * pause as the holder's failed the log with ERR_PRODUCER_STALLED for good (every handle's append, and
 * the owner's close(), failed with it). The waits leave such a gap out (src/ring/running-clock.ts):
 * after the pause the threads append on, and close() succeeds. A child process owns the log
 * (test/fixtures/paused-attached-child.mjs); records of 2 MB keep a holder inside its copy often.
 */
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('append lock: a pause of the whole process');
const CHILD = new URL('./fixtures/paused-attached-child.mjs', import.meta.url);

/** Whether every thread of process `pid` is stopped (`T` in /proc). */
function allStopped(pid: number): boolean {
  return readdirSync(`/proc/${pid}/task`).every((t) => {
    const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'T';
  });
}

test('attached threads append on after the pause, and the owner closes', async () => {
  const PAUSE_MS = 3_000; // over appendTimeoutMs (200) + 2,000 ms
  for (let round = 0; round < 3; round++) {
    const child = spawn(process.execPath, [CHILD.pathname], {
      env: { ...process.env, LOG_DIR: join(tempDir(), 'log'), SIZE: '2000000', MORE: '30' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += String(d); });
    child.stderr.on('data', (d) => { out += String(d); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => out.includes('appending'), 'the threads to append', 30_000);
      child.kill('SIGSTOP');
      await waitFor(() => allStopped(child.pid!), 'every thread of the child to stop', 5_000);
      const stoppedAt = performance.now();
      await waitFor(() => performance.now() - stoppedAt > PAUSE_MS, `a pause of ${PAUSE_MS} ms`, PAUSE_MS + 5_000);
      child.kill('SIGCONT');
      child.stdin.write('finish\n');
      assert.is(await exited, 0, out);
    } finally {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { ended: Array<{ code: string | null }>; ownerError: string | null; close: string; appendedAfterResume: number };
    process.stdout.write(`#   round ${round}: ${JSON.stringify(result)}\n`);
    assert.is(result.ownerError, null, out);
    assert.is(result.close, 'ok', out);
    assert.equal(result.ended.map((e) => e.code), [null, null, null], out);
    assert.ok(result.appendedAfterResume >= 30, out);
  }
});

test.run();
