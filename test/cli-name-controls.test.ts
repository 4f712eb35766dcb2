/**
 * Names the commands find in a log directory (file names, a lock file's host) are printed with their
 * control characters escaped: a file named with a terminal escape sequence must not reach the
 * terminal as one. In the text output every C0 control, DEL, C1 control and U+2028/2029 of a name is
 * a `\u` escape; in --json output, where JSON.stringify leaves DEL and the C1 controls raw, they are
 * escaped as well (the JSON still parses back to the name).
 */
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logOf, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli-name-controls');
test.after(killCliProcesses);

// OSC (set the window title, ended by BEL), clear screen, a newline, and CSI as a C1 control.
const NASTY = 'e\u001b]0;pwned\u0007\u001b[2J\nx\u009b31m\u2028';
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

async function nastyLog(): Promise<string> {
  const logDir = await logOf(['a', 'b']);
  writeFileSync(join(logDir, NASTY), 'x');
  writeFileSync(join(logDir, `00000000000000000000${NASTY}.log`), 'x');
  mkdirSync(join(logDir, 'cursors'), { recursive: true });
  writeFileSync(join(logDir, 'cursors', `${NASTY}.cursor`), 'x');
  // A stale producer lock (no live pid) whose host names a control sequence.
  writeFileSync(join(logDir, 'producer.lock'), JSON.stringify({ pid: 2 ** 22 + 7, start: '1', host: NASTY, thread: 0, recovered: true }));
  return logDir;
}

test('verify, info, cursor list, unlock and repair escape control characters in names they print', async () => {
  const logDir = await nastyLog();
  for (const args of [['verify', logDir], ['info', logDir], ['cursor', 'list', logDir], ['unlock', logDir, '--dry-run'], ['repair', logDir, '--dry-run']]) {
    const r = cli(...args);
    assert.ok(r.status === 0 || r.status === 1, `${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    assert.not.ok(RAW.test(r.stdout), `${args[0]} printed a raw control character: ${JSON.stringify(r.stdout)}`);
    assert.not.ok(RAW.test(r.stderr), `${args[0]} wrote a raw control character on stderr: ${JSON.stringify(r.stderr)}`);
  }
  const v = cli('verify', logDir);
  assert.ok(v.stdout.includes('e\\u001b]0;pwned\\u0007\\u001b[2J\\u000ax\\u009b31m\\u2028'), v.stdout);
});

test('the --json reports escape DEL and C1 controls in names too, and parse back to them', async () => {
  const logDir = await nastyLog();
  for (const args of [['verify', logDir, '--json'], ['info', logDir, '--json'], ['cursor', 'list', logDir, '--json'], ['unlock', logDir, '--dry-run', '--json'], ['repair', logDir, '--dry-run', '--json']]) {
    const r = cli(...args);
    assert.ok(r.status === 0 || r.status === 1, `${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
    assert.not.ok(RAW.test(r.stdout), `${args[0]} --json printed a raw control character: ${JSON.stringify(r.stdout)}`);
    JSON.parse(r.stdout);
  }
  const v = JSON.parse(cli('verify', logDir, '--json').stdout) as { findings: Array<{ file: string }> };
  assert.ok(v.findings.some((f) => f.file === NASTY), 'the JSON holds the name as it is');
});

test.run();
