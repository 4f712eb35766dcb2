/**
 * The published declarations (dist/*.d.ts, *.d.cts, through the package's exports and its
 * jetstream/package.json) type-check with skipLibCheck off under the CommonJS settings a user's
 * tsconfig may have: nodenext in a CommonJS package, and the legacy node10 with module commonjs and
 * neither esModuleInterop nor allowSyntheticDefaultImports (TypeScript's defaults, where a
 * declaration's default import of a CommonJS module such as a node: builtin is an error). Each
 * compiles a module importing every export of 'reactive-log' and 'reactive-log/jetstream'. (Each run
 * checks @types/node too, about 5 s of CPU: nodenext as ESM is scripts/pack-smoke.mjs's TypeScript
 * project.) skipDefaultLibCheck leaves out only TypeScript's own lib.*.d.ts, whose check does not
 * depend on the package (its declarations declare no globals) and cost each run 2 s more; the
 * package's declarations and @types/node are checked in full.
 */
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite, tempDir } from './kit.js';

const test = suite('types-configs');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const CONFIGS: Array<[string, 'module' | 'commonjs', Record<string, unknown>]> = [
  ['nodenext, CommonJS', 'commonjs', { module: 'nodenext', moduleResolution: 'nodenext' }],
  ['node10, module commonjs, no esModuleInterop', 'commonjs', { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: false, allowSyntheticDefaultImports: false }],
];

for (const [name, type, options] of CONFIGS) {
  test(`the declarations type-check with skipLibCheck off: ${name}`, () => {
    const dir = tempDir('rlog-types-');
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'reactive-log'), 'dir');
    symlinkSync(join(ROOT, 'node_modules', '@types'), join(dir, 'node_modules', '@types'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type, private: true }));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { ...options, target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, skipDefaultLibCheck: true, types: ['node'] },
      include: ['src'],
    }));
    writeFileSync(join(dir, 'src', 'main.ts'), "import * as log from 'reactive-log';\nimport * as js from 'reactive-log/jetstream';\nexport const all = { log, js };\n");
    const r = spawnSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    assert.is(r.status, 0, `${r.stdout}${r.stderr}`);
  });
}

test.run();
