/**
 * `tail -f` stops on SIGTERM (exit code 0) and on SIGINT (exit code 130) also while its stdout pipe is
 * full and nobody reads it: the signal ends the pending write instead of waiting for a reader.
 */
import * as assert from 'uvu/assert';
import { logOf, suite, waitFor } from './kit.js';
import { CliProcess, killCliProcesses } from './cli-kit.js';

const test = suite('cli tail -f stop');
test.after(killCliProcesses);

const pad = 'x'.repeat(100);

for (const [signal, code] of [['SIGTERM', 0], ['SIGINT', 130]] as const) {
  test(`tail -f blocked on a full pipe exits with ${code} on ${signal}`, async () => {
    // 3000 records of ~120 bytes: more than the pipe and our paused buffer hold, so the child waits on its output.
    const logDir = await logOf(Array.from({ length: 3000 }, (_, i) => `rec-${i}-${pad}`));
    const child = new CliProcess(['tail', logDir, '-n', '3000', '-f']);
    child.proc.stdout!.pause();
    await waitFor(() => child.proc.stdout!.readableLength >= child.proc.stdout!.readableHighWaterMark, 'tail -f to fill the pipe');
    assert.is(child.exit, null, 'tail -f is still running');
    child.proc.kill(signal);
    await waitFor(() => child.exit !== null, `tail -f to exit on ${signal}`, 5_000);
    assert.equal(child.exit, { code, signal: null }, child.stderr);
  });
}

test.run();
