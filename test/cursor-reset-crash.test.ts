/**
 * A cursor reset killed at any point leaves the cursor file with the old value or the new one, and a
 * file verify finds sound: here the reset of a cursor backwards (offset 8 to 2) is SIGKILLed while it
 * writes its second slot. Before, the reset wrote the new value over one slot and then over the other
 * in place, so a kill between the two left the newer slot below the older one, which verify reports
 * as damage ("a cursor never moves backwards").
 */
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer, ConsumerStyle, verifyLog } from '../dist/index.js';
import { logOf, suite, tempDir, waitFor } from './kit.js';
import { clearFaults, setFaults } from './faults.js';

const test = suite('cursor-reset-crash');
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const OPS = ['writev', 'fdatasync', 'rename'] as const;

/** The writes, syncs and renames of the cursor's files the trace shows so far. */
function cursorSteps(trace: string): number {
  let text = '';
  try {
    text = readFileSync(trace, 'utf8');
  } catch { /* not written yet */ }
  return text.split('\n').filter((l) => {
    const [thread, op, path] = l.split(' ');
    return thread === 'main' && (OPS as readonly string[]).includes(op ?? '') && /client\.r\.cursor(\.new)?$/.test(path ?? '');
  }).length;
}

test('SIGKILL at each step of a reset backwards: verify finds the cursor file sound, and it opens at the old or the new offset', async () => {
  const logDir = await logOf(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('r') });
  await c.nonblockingProcess(8, () => 'commit');
  await c.close();
  let completed = false;
  for (let step = 1; !completed; step++) {
    assert.ok(step < 20, 'the reset ends within 20 steps');
    const trace = join(tempDir(), 'trace');
    // Step number `step` of the reset waits until the child is killed; the steps before it are done.
    setFaults({ trace, rules: [{ op: [...OPS], path: 'client\\.r\\.cursor', thread: 'main', nth: step, effect: { delayMs: 60_000 } }] });
    const script = `import { resetCursor } from ${JSON.stringify(DIST)}; await resetCursor(${JSON.stringify(logDir)}, 'r', { to: 2 });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    clearFaults();
    let exitCode: number | null | undefined;
    const exited = new Promise<void>((resolve) => child.on('exit', (code) => { exitCode = code; resolve(); }));
    try {
      await waitFor(() => cursorSteps(trace) >= step || exitCode !== undefined, `the reset's step ${step}`);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    completed = exitCode === 0;
    const report = await verifyLog(logDir);
    assert.equal(report.findings.filter((f) => f.severity === 'damage'), [], `killed at step ${step}`);
    const d = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('r') });
    assert.ok(d.committedOffset === 8 || d.committedOffset === 2, `opens at ${d.committedOffset}`);
    if (completed) assert.is(d.committedOffset, 2);
    else await d.nonblockingProcess(8 - (d.committedOffset ?? 0), () => 'commit'); // back at 8 for the next step
    assert.is(d.committedOffset, completed ? 2 : 8);
    await d.close();
  }
});

test.run();
