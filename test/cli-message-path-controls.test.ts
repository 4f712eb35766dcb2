/**
 * A message on stderr that names a path given on the command line (a log directory whose name holds a
 * newline, a tab or an escape sequence) has those characters escaped like every other control
 * character: a path cannot forge a second line on stderr (a fake `reactive-log: ...` line, a fake
 * usage line) nor drive the terminal. The layout of the message (its usage lines) stays as it is.
 */
import * as assert from 'uvu/assert';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { logOf, suite, tempDir } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli-message-path-controls');
test.after(killCliProcesses);

const NASTY = 'log\nreactive-log: forged line\t\u001b[2J';
// Every C0 control (the tab included), DEL, C1 and U+2028/2029; the newline is checked by counting lines.
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
const ESCAPED = 'log\\u000areactive-log: forged line\\u0009\\u001b[2J';

test('a usage error naming a path with a newline, a tab and ESC: one message line, then the usage lines', () => {
  const missing = join(tempDir(), NASTY);
  for (const args of [['dump', missing], ['tail', missing, '-f'], ['get', missing, '0'], ['info', missing]]) {
    const r = cli(...args);
    assert.is(r.status, 2, `${args[0]}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.is(lines.length, 3, `${args[0]} wrote ${lines.length} lines on stderr, not the message and two usage lines: ${JSON.stringify(r.stderr)}`);
    assert.ok(lines[0]!.includes(ESCAPED) && lines[0]!.endsWith('(ERR_INVALID_OPTION)'), `${args[0]}: ${JSON.stringify(lines[0])}`);
    assert.ok(lines[1]!.startsWith('Usage: reactive-log '), JSON.stringify(lines[1]));
    assert.not.ok(RAW.test(r.stderr), `${args[0]} wrote a raw control character on stderr: ${JSON.stringify(r.stderr)}`);
  }
});

test('a failure (exit 1) naming a log directory with a newline in its path: one line ending with its code', async () => {
  const logDir = join(tempDir(), NASTY);
  cpSync(await logOf(['a']), logDir, { recursive: true });
  const r = cli('cursor', 'delete', logDir, 'nobody');
  assert.is(r.status, 1, r.stderr);
  assert.is(r.stderr.split('\n').length, 2, `one line on stderr: ${JSON.stringify(r.stderr)}`);
  assert.ok(r.stderr.includes(ESCAPED), JSON.stringify(r.stderr));
  assert.not.ok(RAW.test(r.stderr), `a raw control character on stderr: ${JSON.stringify(r.stderr)}`);
});

test('an unknown option whose text holds a newline: the usage error is one line', async () => {
  const logDir = await logOf(['a']);
  const r = cli('dump', logDir, '--x\nreactive-log: forged');
  assert.is(r.status, 2, r.stderr);
  assert.is(r.stderr.trimEnd().split('\n').length, 3, `the message and two usage lines: ${JSON.stringify(r.stderr)}`);
});

test.run();
