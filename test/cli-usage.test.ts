/**
 * Bad usage of the real CLI: every command with missing, extra or malformed arguments exits 2 with a
 * usage line on stderr, prints nothing on stdout and leaves the log directory (and its parent)
 * byte-identical.
 */
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { digestDir, logOf, suite, tempDir } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

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
  for (const args of cases) {
    const r = cli(...args);
    const what = `reactive-log ${args.join(' ')}`;
    assert.is(r.status, 2, `${what}: exit ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, /Usage: reactive-log|reactive-log --help/, `${what}: a usage line`);
    assert.is(r.stdout, '', `${what}: nothing on stdout`);
    assert.is(digestDir(parent), before, `${what}: nothing changed`);
  }
});

test.run();
