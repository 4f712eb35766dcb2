/**
 * The exit-code table of docs/cli.md: exit code 1 comes with one message line on stderr that ends
 * with the error code. `verify` that finds damage (and `repair` that leaves damage) prints its
 * report on stdout and that line (ERR_LOG_CORRUPT) on stderr; a clean log: exit 0, stderr empty.
 * (Before, both exited 1 with nothing on stderr.)
 */
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, ConsumerStyle } from '../dist/index.js';
import { cli } from './cli-kit.js';
import { logOf, suite } from './kit.js';

const test = suite('cli-damage-exit-line');

async function damagedLog(): Promise<string> {
  const logDir = await logOf(200, { fileRollSize: 2048, flushAfter: (i: number) => i % 7 === 6 });
  const seg = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort()[0]!;
  const b = readFileSync(join(logDir, seg));
  b[Math.floor(b.length / 2)] ^= 0xff;
  writeFileSync(join(logDir, seg), b);
  return logDir;
}

test('verify on a clean log: exit 0, nothing on stderr', async () => {
  const r = cli('verify', await logOf(20));
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
});

for (const json of [false, true]) {
  test(`verify${json ? ' --json' : ''} finding damage: the report on stdout, one coded line on stderr, exit 1`, async () => {
    const logDir = await damagedLog();
    const r = cli('verify', ...(json ? ['--json'] : []), logDir);
    assert.is(r.status, 1);
    if (json) assert.is((JSON.parse(r.stdout) as { ok: boolean }).ok, false);
    else assert.match(r.stdout, /result: DAMAGED/);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^reactive-log verify: .*damage.*\(ERR_LOG_CORRUPT\)$/);
  });
}

test('repair that leaves damage (a cursor file, which it does not mend): one coded line on stderr, exit 1', async () => {
  const logDir = await logOf(20);
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('mailer') });
  await c.nonblockingProcess(5, () => 'commit');
  await c.close();
  const file = join(logDir, 'cursors', 'client.mailer.cursor');
  writeFileSync(file, Buffer.alloc(readFileSync(file).length, 0xee)); // no valid slot
  const r = cli('repair', logDir);
  assert.is(r.status, 1);
  assert.match(r.stdout, /nothing to repair/);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.is(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^reactive-log repair: .*cursors\/client\.mailer\.cursor.*\(ERR_LOG_CORRUPT\)$/);
});

test.run();
