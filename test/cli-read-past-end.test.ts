/**
 * `get` and `dump --from` at and past the end of the log: `get` says there is no record at that
 * offset (exit 1) whether the offset is the log's end or beyond it; `dump --from` past the end names
 * --from and the log's end (exit 1), and at the end prints nothing (exit 0). Neither names an API
 * option the user never gave; both messages end with the code Consumer.open gives for a position
 * past the end (ERR_INVALID_OPTION), as every exit-1 message ends with its code.
 */
import * as assert from 'uvu/assert';
import { logOf, suite } from './kit.js';
import { cli } from './cli-kit.js';

const test = suite('cli-read-past-end');

test('get at and past the end', async () => {
  const logDir = await logOf(5);
  for (const offset of ['5', '6', '1000']) {
    const r = cli('get', logDir, offset);
    assert.is(r.status, 1, offset);
    assert.is(r.stdout, '');
    assert.is(r.stderr.trim(), `reactive-log get: no record at offset ${offset}: it is past the end of the log (ERR_INVALID_OPTION)`);
  }
  const r = cli('get', logDir, '4');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /rec-4/);
});

test('dump --from at and past the end', async () => {
  const logDir = await logOf(5);
  const at = cli('dump', logDir, '--from', '5');
  assert.is(at.status, 0, at.stderr);
  assert.is(at.stdout, '');
  const past = cli('dump', logDir, '--from', '6');
  assert.is(past.status, 1);
  assert.is(past.stdout, '');
  assert.match(past.stderr, /--from 6/);
  assert.match(past.stderr, /past the end of the log, whose next offset is 5 \(ERR_INVALID_OPTION\)$/m);
  assert.not.match(past.stderr, /whence/i);
});

test.run();
