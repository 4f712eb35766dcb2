/**
 * A usage error prints the synopsis of what was run: `cursor reset` and `cursor delete` their own
 * line, not the one of `cursor list`; `cursor` without a known subcommand every cursor synopsis.
 */
import * as assert from 'uvu/assert';
import { logOf, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli usage synopsis');
test.after(killCliProcesses);

const LIST = 'reactive-log cursor list <dir> [--json]';
const RESET = 'reactive-log cursor reset <dir> <id> (--to <oldest|latest|offset> | --to-time <time>) [--clear-state] [--json]';
const DELETE = 'reactive-log cursor delete <dir> <id> [--json]';

/** The synopsis lines of a usage error's stderr (from "Usage: " to the "Run ..." line). */
function synopsis(stderr: string): string[] {
  const lines = stderr.split('\n');
  const from = lines.findIndex((l) => l.startsWith('Usage: '));
  const to = lines.findIndex((l) => l.startsWith('Run "reactive-log'));
  return from < 0 || to < from ? [] : lines.slice(from, to).map((l) => l.replace(/^Usage: /, '').trim());
}

test('each cursor subcommand\'s usage error shows its own synopsis', async () => {
  const logDir = await logOf(3);
  const cases: Array<[string[], string[]]> = [
    [['cursor', 'reset', logDir, 'billing'], [RESET]],
    [['cursor', 'reset', logDir, 'billing', '--to', '1,5'], [RESET]],
    [['cursor', 'reset', logDir, 'bad/id', '--to', '1'], [RESET]],
    [['cursor', 'delete', logDir], [DELETE]],
    [['cursor', 'delete', logDir, 'billing', '--bogus'], [DELETE]],
    [['cursor', 'list'], [LIST]],
    [['cursor'], [LIST, RESET, DELETE]],
    [['cursor', 'move', logDir], [LIST, RESET, DELETE]],
    [['tail', logDir, '-n', 'ten'], ['reactive-log tail <dir> [-n <count>] [-f] [--json]']],
  ];
  for (const [args, want] of cases) {
    const r = cli(...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(synopsis(r.stderr), want, `${args.join(' ')}:\n${r.stderr}`);
  }
});

test.run();
