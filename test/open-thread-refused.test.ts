/**
 * Producer.open where the system refuses the writer's thread: Node's Worker constructor then throws
 * at once (ERR_WORKER_INIT_FAILED, EAGAIN under a limit on threads such as `ulimit -u` or a cgroup's
 * pids.max). The open rejects with ERR_WRITER_FAILED, a LogError, and leaves the directory as it
 * was, with no lock or descriptor held: the next open recovers the log as always. The refusal is
 * simulated here by a Worker that throws as Node's does for the writer's thread only.
 */
import * as assert from 'uvu/assert';
import { appendFileSync, readdirSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import type { WorkerOptions } from 'node:worker_threads';
import { Producer } from '../dist/index.js';
import { digestDir, rejectsWith, suite, tempDir } from './kit.js';

const test = suite('open-thread-refused');
const threads = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
const RealWorker = threads.Worker;

/** Makes `new Worker` throw as Node's does when the system refuses a thread, for the writer's thread only. */
function refuseWriterThread(): void {
  threads.Worker = class extends RealWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      if (options?.name === 'reactive-log writer') throw Object.assign(new Error('EAGAIN'), { code: 'ERR_WORKER_INIT_FAILED' });
      super(url, options);
    }
  };
  syncBuiltinESMExports();
}

function allowThreads(): void {
  threads.Worker = RealWorker;
  syncBuiltinESMExports();
}

test('a writer thread the system refuses: ERR_WRITER_FAILED, the directory as it was, nothing held', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir });
  for (let i = 0; i < 3; i++) p.append(`record ${i}`);
  await p.close();
  appendFileSync(join(logDir, readdirSync(logDir).find((n) => n.endsWith('.seg'))!), Buffer.from('a torn frame'));
  const before = digestDir(logDir);
  const fds = readdirSync('/proc/self/fd').length;
  refuseWriterThread();
  try {
    const err = await rejectsWith(Producer.open({ logDir }), 'ERR_WRITER_FAILED');
    assert.is(err.name, 'LogError');
  } finally {
    allowThreads();
  }
  assert.is(digestDir(logDir), before, 'the torn tail is not cut, no lock file is left');
  assert.is(readdirSync('/proc/self/fd').length, fds, 'no descriptor is left open');
  const q = await Producer.open({ logDir });
  assert.is(q.nextOffset, 3);
  assert.is(q.recovery.truncated?.bytes, 'a torn frame'.length);
  await q.close();
});

test.run();
