/**
 * The published declarations against the runtime: every name the entry points' .d.ts export as a
 * value (a class, function, const or enum declared in dist/*.d.ts) is exported by the ESM and the
 * CommonJS module. A type checker passes an import of a value the declarations promise; a value the
 * runtime lacks then fails as the module loads (with verbatimModuleSyntax, the default of tsc --init).
 */
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { suite } from './kit.js';

const test = suite('exports');
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const require = createRequire(import.meta.url);

/** Names declared as values in any of dist's declaration files. */
function declaredValues(): Set<string> {
  const out = new Set<string>();
  for (const f of readdirSync(DIST)) {
    if (!/\.d\.(c|m)?ts$/.test(f)) continue;
    for (const m of readFileSync(DIST + f, 'utf8').matchAll(/^(?:export )?declare (?:abstract )?(?:class|function|const|let|var|enum) ([A-Za-z_$][\w$]*)/gm)) out.add(m[1]!);
  }
  return out;
}

/** The names an entry's .d.ts exports without `type`. */
function exportedNames(dts: string): string[] {
  const text = readFileSync(DIST + dts, 'utf8');
  const names: string[] = [];
  for (const m of text.matchAll(/^export \{([^}]*)\};?$/gm)) {
    for (const part of m[1]!.split(',')) {
      const p = part.trim();
      if (p === '' || p.startsWith('type ')) continue;
      names.push(p.split(/\s+as\s+/).at(-1)!);
    }
  }
  return names;
}

for (const [entry, dts, cjs] of [['index.js', 'index.d.ts', 'index.cjs'], ['jetstream.js', 'jetstream.d.ts', 'jetstream.cjs']] as const) {
  test(`${entry}: every value its declarations export is there at runtime (ESM and CommonJS)`, async () => {
    const values = declaredValues();
    const promised = exportedNames(dts).filter((n) => values.has(n));
    assert.ok(promised.length > 0, `${dts} exports values`);
    const esm = Object.keys(await import(DIST + entry) as object);
    const commonjs = Object.keys(require(DIST + cjs) as object);
    assert.equal(promised.filter((n) => !esm.includes(n)), [], 'missing from the ESM module');
    assert.equal(promised.filter((n) => !commonjs.includes(n)), [], 'missing from the CommonJS module');
  });
}

test.run();
