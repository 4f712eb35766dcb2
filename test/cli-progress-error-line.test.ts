/**
 * A progress bar on a terminal is ended before a failure's message: when verify or repair fails
 * with a thrown error after their bar drew (EIO here), the message starts on a line of its own, not
 * after the half-drawn bar. The CLI runs on a pseudo-terminal made by script(1) (util-linux): its
 * stdout and stderr both go to the terminal, whose text the test reads; without script(1) the tests
 * are skipped with a printed reason.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CLI } from './cli-kit.js';
import { FAULT_IO, type FaultPlan } from './faults.js';
import { suite, tempDir } from './kit.js';
import { logWithCursor } from './repair-kit.js';

const test = suite('cli-progress-error-line');
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The terminal's text of `reactive-log ...args` run with `plan` in force, and its exit code. */
function onTerminal(plan: FaultPlan, ...args: string[]): { status: number | null; text: string } {
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, REACTIVE_LOG_TEST_FILE_IO: FAULT_IO, REACTIVE_LOG_FAULTS: JSON.stringify(plan), REACTIVE_LOG_PROGRESS: '' },
  });
  return { status: r.status, text: r.stdout };
}

/** The terminal text before the failure's message `reactive-log <cmd>:` ends a line (the bar drew first). */
function checkMessageOnItsOwnLine(text: string, cmd: string, bar: RegExp): void {
  const at = text.indexOf(`reactive-log ${cmd}:`);
  assert.ok(at > 0, `a message after the bar: ${JSON.stringify(text)}`);
  const before = text.slice(0, at);
  assert.match(before, bar, `the bar drew first: ${JSON.stringify(before)}`);
  assert.match(before, /\n$/, `the message starts on a line of its own: ${JSON.stringify(text.slice(Math.max(0, at - 60), at + 40))}`);
}

test('repair failing after its backup bar drew (EIO on the truncate): the message on a line of its own', async () => {
  if (!hasScript) return void console.log('skipped: no script(1) to make a terminal');
  const { logDir, segs } = await logWithCursor();
  const victim = join(logDir, segs[2]!);
  const b = readFileSync(victim);
  b[Math.floor(b.length / 2)] ^= 0xff;
  writeFileSync(victim, b);
  const r = onTerminal({ rules: [{ op: 'ftruncate', path: '\\.seg$', nth: 1, effect: { errno: 'EIO' } }] }, 'repair', logDir, '--backup', join(tempDir(), 'bk'));
  assert.is(r.status, 1, r.text);
  checkMessageOnItsOwnLine(r.text, 'repair', /repair: backup \[/);
});

test('verify failing after its bar drew (a segment gone, then EIO listing the directory): the message on a line of its own', async () => {
  if (!hasScript) return void console.log('skipped: no script(1) to make a terminal');
  const { logDir, segs } = await logWithCursor();
  // Segment 3 is deleted as verify opens it; listing the directory again to judge that fails.
  const r = onTerminal({ rules: [
    { op: 'open', path: `${segs[3]!.replace('.', '\\.')}$`, nth: 1, effect: { unlinkFirst: [join(logDir, segs[3]!)] } },
    { op: 'readdir', path: `${basename(logDir)}$`, nth: 4, persistent: true, effect: { errno: 'EIO' } },
  ] }, 'verify', logDir);
  assert.is(r.status, 1, r.text);
  checkMessageOnItsOwnLine(r.text, 'verify', /verify \[/);
});

test.run();
