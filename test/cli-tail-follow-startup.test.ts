/**
 * `tail -f` handles SIGTERM (exit code 0) and SIGINT (exit code 130) from the start of the command,
 * not only once it follows: a signal while it reads the log's offsets or opens its consumer stops it
 * with the documented code, never by the signal. The fault kit holds the child at one file call of
 * its startup (a delay) and its trace says when it is there.
 */
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logOf, suite, tempDir, waitFor } from './kit.js';
import { CliProcess, killCliProcesses } from './cli-kit.js';
import { withFaults, type FaultRule } from './faults.js';

const test = suite('cli tail -f startup signals');
test.after(killCliProcesses);

const stages: Array<[string, FaultRule]> = [
  ['reading the offsets, before anything is opened', { op: 'readdir', thread: 'main', nth: 1, effect: { delayMs: 3000 } }],
  ['opening the consumer', { op: 'open', path: 'producer\\.lock$', thread: 'main', nth: 1, effect: { delayMs: 3000 } }],
];

for (const [stage, rule] of stages) {
  for (const [signal, code] of [['SIGTERM', 0], ['SIGINT', 130]] as const) {
    test(`${signal} while tail -f is ${stage}: exit code ${code}`, async () => {
      const logDir = await logOf(20);
      const trace = join(tempDir(), 'trace');
      const child = await withFaults({ rules: [rule], trace }, async () => new CliProcess(['tail', logDir, '-f']));
      const held = (): boolean => {
        try {
          return readFileSync(trace, 'utf8').includes('FIRE main');
        } catch {
          return false;
        }
      };
      await waitFor(() => held() || child.exit !== null, 'tail -f to reach the delayed call', 20_000);
      assert.is(child.exit, null, `tail -f ended before the delayed call: ${child.stderr}`);
      child.proc.kill(signal);
      await waitFor(() => child.exit !== null, `tail -f to exit on ${signal}`, 20_000);
      assert.equal(child.exit, { code, signal: null }, child.stderr);
    });
  }
}

test.run();
