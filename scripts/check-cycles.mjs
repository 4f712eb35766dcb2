#!/usr/bin/env node
// Fails when the modules of src/ and workers/ import each other in a cycle. Every relative import and
// re-export counts, `import type` included: a cycle of types is still two modules that cannot be read
// apart. Prints each cycle found as a chain of files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const roots = ['src', 'workers'];
const files = roots.flatMap((r) => walk(r)).map((f) => resolve(f));
const known = new Set(files);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

function importsOf(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);
  const out = [];
  for (const node of source.statements) {
    const spec = (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) ? node.moduleSpecifier : undefined;
    if (spec === undefined || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) continue;
    const target = resolve(dirname(file), spec.text.replace(/\.js$/, '.ts'));
    if (known.has(target)) out.push(target);
  }
  return out;
}

// Depth-first search with three colours; a grey target is a back edge, that is a cycle.
const colour = new Map();
const stack = [];
const cycles = [];
function visit(file) {
  colour.set(file, 'grey');
  stack.push(file);
  for (const next of graph.get(file)) {
    if (colour.get(next) === 'grey') cycles.push([...stack.slice(stack.indexOf(next)), next]);
    else if (colour.get(next) === undefined) visit(next);
  }
  stack.pop();
  colour.set(file, 'black');
}
for (const f of files) if (colour.get(f) === undefined) visit(f);

const rel = (f) => relative(process.cwd(), f);
if (cycles.length > 0) {
  process.stderr.write(`${cycles.length} import cycle(s) in ${roots.join(', ')}:\n`);
  for (const c of cycles) process.stderr.write(`  ${c.map(rel).join(' -> ')}\n`);
  process.exit(1);
}
process.stdout.write(`no import cycle among ${files.length} modules\n`);
