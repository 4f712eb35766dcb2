/**
 * A clock the test sets: every thread's io.now() (the producer's, its writer's, a reader's) reads the
 * time from a file (fixtures/file-clock-io.mjs), set up before the first producer or consumer opens.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './kit.js';

/**
 * Points the file layer at a clock file holding `startMs`; returns the function that sets it: a time
 * in ms, or what fixtures/file-clock-io.mjs reads besides (`offset <ms>`: the real clock shifted).
 */
export function useFileClock(startMs: number): (clock: number | string) => void {
  const clockFile = join(tempDir(), 'clock.ms');
  process.env.REACTIVE_LOG_TEST_FILE_IO = fileURLToPath(new URL('./fixtures/file-clock-io.mjs', import.meta.url));
  process.env.REACTIVE_LOG_CLOCK_FILE = clockFile;
  const setClock = (clock: number | string): void => writeFileSync(clockFile, String(clock));
  setClock(startMs);
  return setClock;
}
