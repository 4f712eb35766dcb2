/**
 * An option given twice is a usage error (exit code 2) that names it, and nothing is changed: a
 * `cursor reset --to 3 --to latest` does not move the cursor to whichever came last, and `dump
 * --count 5 --count 1` does not print one record silently. Options that take no value are refused
 * twice too, as every option is.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { digestDir, liveLogOf, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli-repeated-option');
test.after(killCliProcesses);

test('an option given twice is a usage error and changes nothing', async () => {
  const { logDir, p } = await liveLogOf(10);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('billing') });
  await c.nonblockingProcess(4, () => 'commit');
  await c.close();
  const before = digestDir(logDir);
  const cases: Array<[string[], string]> = [
    [['cursor', 'reset', logDir, 'billing', '--to', '3', '--to', 'latest'], '--to'],
    [['cursor', 'reset', logDir, 'billing', '--to=3', '--to-time', '0', '--to-time', '1'], '--to-time'],
    [['dump', logDir, '--count', '5', '--count', '1'], '--count'],
    [['tail', logDir, '-n', '2', '--lines', '1'], '--lines'],
    [['dump', logDir, '--json', '--json'], '--json'],
    [['repair', logDir, '--backup', '/tmp/a', '--backup', '/tmp/b', '--dry-run'], '--backup'],
  ];
  for (const [args, option] of cases) {
    const r = cli(...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.is(r.stdout, '', args.join(' '));
    assert.match(r.stderr, `${option} is given more than once`, args.join(' '));
    assert.is(digestDir(logDir), before, args.join(' '));
  }
  const once = cli('cursor', 'reset', logDir, 'billing', '--to', '3', '--json');
  assert.is(once.status, 0, once.stderr);
  assert.equal(JSON.parse(once.stdout), { id: 'billing', from: 4, to: 3 });
  await p.close();
});

test.run();
