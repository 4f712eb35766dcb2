/**
 * periodic(ms) times its interval on a clock that never steps back: after the wall clock steps back
 * an hour, a record written under periodic(50) is still made durable within the interval (the wall
 * clock alone would hold the sync back until it caught up).
 */
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Producer, SyncPolicy } from '../dist/index.js';
import { suite, tempDir, waitFor } from './kit.js';

const test = suite('periodic-clock');
const HOUR = 3_600_000;
const clockFile = join(tempDir(), 'clock.ms');
process.env.REACTIVE_LOG_TEST_FILE_IO = fileURLToPath(new URL('./fixtures/file-clock-io.mjs', import.meta.url));
process.env.REACTIVE_LOG_CLOCK_FILE = clockFile;
const setClock = (offsetMs: number): void => writeFileSync(clockFile, `offset ${offsetMs}`);
setClock(0);

test('periodic(50) syncs within its interval after the wall clock steps back', async () => {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.periodic(50) });
  try {
    p.append('a');
    await waitFor(() => p.durableOffset === 1, 'the first periodic sync (clock steady)', 3000);
    setClock(-HOUR); // the wall clock steps back an hour
    p.append('b');
    await waitFor(() => p.writtenOffset === 2, 'record b written', 3000);
    const t = performance.now();
    let ok = true;
    try {
      await waitFor(() => p.durableOffset === 2, 'record b durable by the periodic policy', 3000);
    } catch { ok = false; }
    assert.ok(ok, `record b still not durable ${Math.round(performance.now() - t)} ms after it was written, under periodic(50) (durableOffset ${p.durableOffset})`);
  } finally {
    await p.close();
  }
});

test.run();
