/**
 * dump's text mode prints data as-is only without control characters: C1 controls (NEL U+0085, CSI
 * U+009B) and the Unicode line and paragraph separators U+2028/U+2029 make the record print as base64,
 * so no record splits into two lines for a reader that honours Unicode line breaks.
 */
import * as assert from 'uvu/assert';
import { logOf, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('admin-dump-controls');
test.after(killCliProcesses);

test('text dump: C1 controls and U+2028/U+2029 are not printed raw', async () => {
  const records = ['a\u0085b', 'x\u009b31mRED', 'l\u2028s', 'p\u2029q'];
  const logDir = await logOf(records);
  const r = cli('dump', logDir);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').slice(0, -1);
  for (const l of lines) console.log(JSON.stringify(l));
  // What a line-oriented reader that honours Unicode line breaks sees.
  // eslint-disable-next-line no-control-regex
  const unicodeLines = r.stdout.split(/\r\n|[\n\r\u000b\u000c\u001c-\u001e\u0085\u2028\u2029]/).slice(0, -1);
  console.log(`${records.length} records, ${lines.length} \\n-lines, ${unicodeLines.length} lines by Unicode line breaks`);
  assert.ok(lines.every((l) => !/[\u0080-\u009f\u2028\u2029]/.test(l)), 'no C1 control or line separator printed raw');
});

test.run();
