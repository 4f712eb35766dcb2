/**
 * `reactive-log bench <dir>` where <dir> is a log directory, or lies in one: a usage error (exit 2,
 * "nothing on disk was changed") before anything is written. The bench made its folder and ran its
 * disk probe inside the log first, and only its first Producer.open refused, naming a path of its
 * own folder.
 */
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from './cli-kit.js';
import { logOf, suite } from './kit.js';

const test = suite('cli bench: a log directory');

/** The names under `dir`, with each one's size and mtime. */
function snapshot(dir: string): string {
  const entries = readdirSync(dir, { recursive: true }) as string[];
  return [`.${statSync(dir).mtimeMs}`, ...entries.sort().map((e) => `${e} ${statSync(join(dir, e)).size} ${statSync(join(dir, e)).mtimeMs}`)].join('\n');
}

test('a log directory and a directory inside one are refused before anything is written', async () => {
  const logDir = await logOf(3);
  const inside = join(logDir, 'sub');
  mkdirSync(inside);
  const before = snapshot(logDir);
  for (const dir of [logDir, inside]) {
    const r = cli('bench', dir, '--seconds', '0.05');
    assert.is(r.status, 2, `${dir}: ${r.stderr}`);
    assert.match(r.stderr, /is a log directory or lies in one/);
    assert.is(snapshot(logDir), before, `${dir}: the log directory changed`);
  }
});

test.run();
