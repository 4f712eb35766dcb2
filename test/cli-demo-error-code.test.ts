/**
 * `demo`'s failure lines end with the error's code, as every exit-1 message of the command does
 * (docs/cli.md): a log another producer holds is `cannot open the log: <message> (ERR_LOG_LOCKED)`,
 * not the code in the middle of the line.
 */
import * as assert from 'uvu/assert';
import { digestDir, liveLogOf, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli-demo-error-code');
test.after(killCliProcesses);

test('demo on a log a producer holds: exit 1, one line ending with (ERR_LOG_LOCKED), nothing changed', async () => {
  const { logDir, p } = await liveLogOf(3);
  try {
    const before = digestDir(logDir);
    const r = cli('demo', '--dir', logDir, '--records', '10');
    assert.is(r.status, 1, r.stderr);
    assert.is(r.stdout, '');
    assert.match(r.stderr, /^reactive-log demo: cannot open the log: .*held by another producer.* \(ERR_LOG_LOCKED\)$/m);
    assert.is(digestDir(logDir), before);
  } finally {
    await p.close();
  }
});

test.run();
