/**
 * `--json` output escapes every character that could drive a terminal or break a line, as the text
 * form does: not only the C0 controls JSON.stringify escapes, but also DEL, the C1 controls (U+009B
 * is CSI, the start of an escape sequence on terminals that take 8-bit controls) and the Unicode line
 * and paragraph separators, in the data, the key and the headers (names and values) alike. The
 * output stays JSON that parses back to the record's exact text.
 */
import * as assert from 'uvu/assert';
import { liveLogOf, suite } from './kit.js';
import { cli, killCliProcesses } from './cli-kit.js';

const test = suite('cli-json-controls');
test.after(killCliProcesses);

const NASTY = 'a\u001b[31mb\u007fc\u009b31md\u0085e\u2028f\u2029g';
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

test('dump, get and tail --json escape DEL, C1 controls and U+2028/2029 in data, key and headers', async () => {
  const { logDir, p } = await liveLogOf(0);
  p.append(Buffer.from(NASTY), { key: Buffer.from(NASTY), headers: { [NASTY]: NASTY } });
  await p.flush();
  for (const args of [['dump', logDir, '--json'], ['get', logDir, '0', '--json'], ['tail', logDir, '--json']]) {
    const r = cli(...args);
    assert.is(r.status, 0, `${args[0]}: ${r.stderr}`);
    const line = r.stdout.replace(/\n$/, '');
    assert.not.ok(RAW.test(line), `${args[0]} printed a raw control character: ${JSON.stringify(line)}`);
    const o = JSON.parse(line) as { data: string; key: string; headers: Record<string, string> };
    assert.equal([o.data, o.key, o.headers], [NASTY, NASTY, { [NASTY]: NASTY }], args[0]);
  }
  await p.close();
});

test.run();
