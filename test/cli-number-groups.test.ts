/**
 * Numbers on the command line (offsets, counts) are digits, or digits grouped by threes with one kind
 * of separator, '_' or ',' (`1_000_000`, `1,000`). A malformed grouping (`1,5`, `5_`, `2,`, `1__000`,
 * `1_000,000`) is a usage error (exit code 2) naming the option and the text, never another number.
 */
import * as assert from 'uvu/assert';
import { UsageError, wholeNumber } from '../src/cli/common.js';
import { logOf, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli number groups');
test.after(killCliProcesses);

test('well-formed numbers and groupings are read as written', () => {
  const cases: Array<[string, number]> = [
    ['0', 0], ['7', 7], ['007', 7], ['1000000', 1_000_000], ['1_000', 1000], ['12_345_678', 12_345_678], ['999,999', 999_999],
    ['1,000,000', 1_000_000], ['100_000', 100_000], ['9_007_199_254_740_991', Number.MAX_SAFE_INTEGER],
  ];
  for (const [text, n] of cases) assert.is(wholeNumber('--count', text), n, text);
});

test('malformed groupings are usage errors that name the option and the text', () => {
  const bad = ['1,5', '5_', '2,', '_5', ',5', '1__000', '1,,000', '1_00', '1_0000', '1234_567', '1,000_000', '1_000,000', '12,34', '1_000_', '_'];
  for (const text of bad) {
    assert.throws(() => wholeNumber('--count', text), (e: unknown) => e instanceof UsageError && e.message.includes('--count') && e.message.includes(JSON.stringify(text)), text);
  }
});

test('get, tail -n and dump --from with a malformed grouping: exit 2, nothing printed, the option and the text on stderr', async () => {
  const logDir = await logOf(50);
  const cases: Array<[string[], string, string]> = [
    [['get', logDir, '1,5'], '<offset>', '1,5'], [['get', logDir, '5_'], '<offset>', '5_'], [['tail', logDir, '-n', '2,'], '--lines', '2,'],
    [['dump', logDir, '--from', '4,8', '--count', '1'], '--from', '4,8'], [['dump', logDir, '--count', '1_0'], '--count', '1_0'],
  ];
  for (const [args, option, text] of cases) {
    const r = cli(...args);
    assert.is(r.status, 2, `${args.join(' ')}: exit ${r.status}, stdout ${JSON.stringify(r.stdout)}`);
    assert.is(r.stdout, '', args.join(' '));
    assert.ok(r.stderr.includes(`${option} takes a whole number`) && r.stderr.includes(JSON.stringify(text)), `${args.join(' ')}: ${r.stderr}`);
  }
  const grouped = cli('dump', logDir, '--from', '0', '--count', '1,000');
  assert.is(grouped.status, 0, grouped.stderr);
  assert.is(grouped.stdout.split('\n').length - 1, 50);
});

test.run();
