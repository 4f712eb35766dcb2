/**
 * The write-behind thread (src/writer/write-behind.ts) ends in the middle of its fdatasync, after it
 * took the call: the writer, blocked waiting for that call before its own fsync, must see it and fail
 * the log with ERR_IO (whether the data reached the disk is unknown), so that flush() and close()
 * reject instead of waiting forever and the producer reports the failure. Two ends: one that runs the
 * helper's exit handler (process.exit), and one that runs no JavaScript (its exit listeners removed
 * first), seen through /proc.
 */
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Producer, SyncPolicy } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('write-behind thread ends mid-call');
const IO = fileURLToPath(new URL('./fixtures/syncer-dies-io.mjs', import.meta.url));

/** The code a promise rejects with, or 'resolved'. */
const outcome = (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e));

for (const how of ['exit', 'silently'] as const) {
  for (const [name, syncPolicy] of [['never()', SyncPolicy.never()], ['periodic(1000)', SyncPolicy.periodic(1000)]] as const) {
    test(`${name}, the thread ends ${how === 'exit' ? 'with process.exit' : 'running no JavaScript'}: flush() and close() reject with ERR_IO`, async () => {
      const logDir = tempDir();
      const mark = join(tempDir(), 'mark');
      Object.assign(process.env, { REACTIVE_LOG_TEST_FILE_IO: IO, SYNCER_DIES_MARK: mark, SYNCER_DIES: how });
      let p: Producer;
      try {
        p = await Producer.open({ logDir, syncPolicy });
      } finally {
        delete process.env.REACTIVE_LOG_TEST_FILE_IO;
      }
      // 12 MiB: the writer asks the helper for a call at 8 MiB; the helper takes it and ends.
      const rec = Buffer.alloc(1024, 0x61);
      for (let i = 0; i < 12 * 1024; i++) {
        try {
          p.append(rec);
        } catch (e) {
          if ((e as { code?: string }).code !== 'ERR_LOG_FULL') throw e;
          await p.writable({ bytes: rec.byteLength });
          i--;
        }
      }
      await waitFor(() => existsSync(mark), 'the helper to take its call and end', 30_000);
      assert.is(await outcome(p.flush()), 'ERR_IO');
      assert.is(p.error?.code, 'ERR_IO');
      assert.match(p.error!.message, /write-behind thread ended during its fdatasync/);
      assert.is(await outcome(p.close()), 'ERR_IO');
    });
  }
}

test.run();
