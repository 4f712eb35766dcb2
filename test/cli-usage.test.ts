/**
 * Bad usage of the real CLI: every command with missing, extra or malformed arguments exits 2 with a
 * usage line on stderr, prints nothing on stdout and leaves the log directory (and its parent)
 * byte-identical. Every command line runs through the CLI's entry in this process
 * (test/cli-inproc-kit.ts: 70 processes cost 15 s of CPU); one of each command's, and the ones
 * without a command, run as the real process (dist/cli.js) too, which must give the same exit code,
 * stdout and stderr.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { digestDir, logOf, suite, tempDir } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';
import { cliInProcess } from './cli-inproc-kit.js';

const test = suite('cli-usage');
test.after(killCliProcesses);

test('missing, extra or malformed arguments: exit 2, a usage line, nothing changed on disk', async () => {
  const parent = tempDir();
  const logDir = await logOf(20, { logDir: join(parent, 'log') });
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(5, () => 'commit');
  await c.close();
  const missing = join(parent, 'missing');
  const L = logDir;
  const cases: string[][] = [
    [], ['nope'], ['--bogus'], ['--version', 'x'], ['--help', 'x'],
    ['info'], ['info', L, L], ['info', L, '--bogus'], ['info', missing], ['info', ''],
    ['dump'], ['dump', L, L], ['dump', L, '--from', 'x'], ['dump', L, '--from', '-1'], ['dump', L, '--from'],
    ['dump', L, '--count', '1.5'], ['dump', L, '--since', 'yesterday'], ['dump', L, '--from', '1', '--since', '5'], ['dump', missing],
    ['get'], ['get', L], ['get', L, '1', '2'], ['get', L, 'x'], ['get', L, '1e3'], ['get', missing, '0'],
    ['tail'], ['tail', L, L], ['tail', L, '-n'], ['tail', L, '-n', 'ten'], ['tail', L, '--bogus'], ['tail', missing, '-f'],
    ['cursor'], ['cursor', 'move', L], ['cursor', 'list'], ['cursor', 'list', L, L],
    ['cursor', 'reset', L, 'billing'], ['cursor', 'reset', L, 'billing', '--to', 'newest'], ['cursor', 'reset', L, 'billing', '--to', '-3'],
    ['cursor', 'reset', L, 'billing', '--to', '1', '--to-time', '5'], ['cursor', 'reset', L, 'billing', '--to-time', 'noon'],
    ['cursor', 'reset', L, '--to', '1'], ['cursor', 'reset', L, 'billing', 'x', '--to', '1'], ['cursor', 'reset', L, 'bad/id', '--to', '1'],
    ['cursor', 'reset', missing, 'billing', '--to', '1'],
    ['cursor', 'delete', L], ['cursor', 'delete', L, 'billing', 'x'], ['cursor', 'delete', L, '.hidden'], ['cursor', 'delete', missing, 'billing'],
    ['verify'], ['verify', L, L],
    ['repair'], ['repair', L, L], ['repair', missing], ['repair', L, '--backup'], ['repair', L, '--bogus'],
    ['bench'], ['bench', parent, parent], ['bench', missing], ['bench', join(L, '00000000000000000000.seg')], ['bench', parent, '--seconds', 'long'],
    ['bench', parent, '--seconds', '0'], ['bench', parent, '--size', '0'], ['bench', parent, '--size', '2000000'], ['bench', parent, '--bogus'],
    ['demo', 'x'], ['demo', '--records', 'many'], ['demo', '--dir', ''],
  ];
  const before = digestDir(parent);
  const real = new Set<string>();
  for (const args of cases) {
    const what = `reactive-log ${args.join(' ')}`;
    const r = await cliInProcess(...args);
    assert.is(r.status, 2, `${what}: exit ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, /Usage: reactive-log|reactive-log --help/, `${what}: a usage line`);
    // No argument here holds a newline: none is escaped in the reason (Node's own lines are joined).
    assert.not.ok(r.stderr.includes('\\u000a'), `${what}: an escaped newline in ${r.stderr}`);
    assert.is(r.stdout, '', `${what}: nothing on stdout`);
    assert.is(digestDir(parent), before, `${what}: nothing changed`);
    // The first case of each command (and each without one) as the real process as well.
    const command = args[0]?.startsWith('-') === false ? args[0] : args.join(' ');
    if (real.has(command)) continue;
    real.add(command);
    const p = cli(...args);
    assert.equal({ status: p.status, stdout: p.stdout, stderr: p.stderr }, r, `${what}: the real process`);
    assert.is(digestDir(parent), before, `${what}: nothing changed (the real process)`);
  }
  assert.ok(real.size >= 14, `only ${real.size} command lines ran as a process`);
});

test.run();
