/**
 * The examples in examples/ run as a user runs them (node, or node --import tsx for TypeScript), each
 * in its own process against the built package (they import 'reactive-log', which resolves to this
 * package's own exports); each must exit 0 and end with its "ok:" line.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { suite } from './kit.js';

const test = suite('examples');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNNABLE = readdirSync(new URL('../examples', import.meta.url)).filter((f) => (f.endsWith('.mjs') || f.endsWith('.ts')) && !f.includes('handler')).sort();

test('every example is here', () => {
  assert.equal(RUNNABLE, ['await-using.ts', 'client-tx-state.mjs', 'other-process.mjs', 'pool.mjs', 'producer-tail.mjs', 'remote-producer.mjs', 'threads.mjs']);
});

for (const file of RUNNABLE) {
  test(`examples/${file} runs and ends with its ok line`, () => {
    const args = file.endsWith('.ts') ? ['--import', 'tsx', `examples/${file}`] : [`examples/${file}`];
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.is(r.status, 0, `exit ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines.at(-1)!, /^ok: /, r.stdout);
  });
}

test.run();
