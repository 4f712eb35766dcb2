/**
 * A transactional open that takes over a cursor just released by its previous owner: the log's bounds
 * it checks the cursor against are read once it holds the cursor's lock, so a cursor that the previous
 * owner moved past the end this open saw before it got the lock (records appended and committed in
 * between) opens there, instead of failing with ERR_LOG_CORRUPT "past the end of the log's records".
 *
 * The opener runs in a worker thread whose open of the cursor's lock file is held up by the fault
 * injector; while it is held, the owner in this thread consumes newly appended records and closes.
 */
import * as assert from 'uvu/assert';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { suite, tempDir, liveLogOf, waitFor } from './kit.js';
import { setFaults, clearFaults } from './faults.js';

const test = suite('cursor-open-handover');

const DIST = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'index.js')).href;

test('a cursor committed past the end an opener saw before it got the lock opens there', async () => {
  const { logDir, p } = await liveLogOf(10);
  const owner = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('h') });
  assert.is((await owner.nonblockingProcess(null, () => 'commit')).committed, 10);
  const trace = join(tempDir(), 'trace');
  // The opener's open of the lock file waits 3 s: long enough for the owner's appends, commits and close.
  setFaults({ trace, rules: [{ op: 'open', path: 'client\\.h\\.lock$', thread: 'worker', nth: 1, effect: { delayMs: 3000 } }] });
  let worker: Worker;
  try {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.dist).then(async ({ Consumer, ConsumerStyle }) => {
        try {
          const c = await Consumer.open({ logDir: workerData.logDir, style: ConsumerStyle.clientTx('h') });
          const at = c.committedOffset;
          await c.close();
          parentPort.postMessage({ ok: true, at });
        } catch (e) {
          parentPort.postMessage({ ok: false, code: e.code, message: e.message });
        }
      });`;
    worker = new Worker(code, { eval: true, workerData: { dist: DIST, logDir } });
  } finally {
    clearFaults();
  }
  const result = new Promise<{ ok: boolean; at?: number; code?: string; message?: string }>((resolve) => worker.once('message', resolve));
  // The opener has read the log's bounds (10 records) and waits to open the lock file.
  await waitFor(() => existsSync(trace) && readFileSync(trace, 'utf8').includes('FIRE worker open'), 'the opener to reach the lock');
  for (let i = 10; i < 15; i++) p.append(`rec-${i}`);
  await p.flush();
  assert.is((await owner.nonblockingProcess(null, () => 'commit')).committed, 5);
  await owner.close();
  const r = await result;
  await worker.terminate();
  await p.close();
  assert.ok(r.ok, `the open after the handover failed: ${r.code}: ${r.message}`);
  assert.is(r.at, 15);
});

test.run();
