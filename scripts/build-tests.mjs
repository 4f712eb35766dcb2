// Compiles the test files (test/*.test.ts, or test/soak/*.soak.ts) ahead of a run, one bundle each,
// into test-dist/ beside test/, so that every file runs in plain `node` instead of paying for tsx's
// loader (a hooks thread and a transform per module) in each of the suite's processes.
//
// A bundle holds the test file and the test/ and src/ modules it imports; what it reaches at run time
// stays outside: packages, the built product under dist/ (imported as `../dist/...`, which resolves
// from test-dist/ as it does from test/), and the fixtures (`test-dist/fixtures` links to
// test/fixtures). A module bundled in takes the bundle's import.meta.url: a path it builds from it
// (`./fixtures/x.mjs`, `../dist/index.js`, `../README.md`) names the same file from test-dist/ as from
// test/, and test-dist/soak/fixtures links to the fixtures for the soak files' helpers.
// Exported: `buildTests(files)` for scripts/run-tests.mjs; run directly, it builds every test file.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const OUT = join(root, 'test-dist');

/**
 * Imports that stay imports: the built package (dist/) and the fixtures a test starts in other
 * processes, rewritten relative to the folder the bundle is written to.
 */
function stayOutside(outdir) {
  return {
    name: 'stay-outside',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\/(.*\/)?(dist|fixtures)\// }, (args) => {
        const target = resolve(dirname(args.importer), args.path);
        const rel = relative(outdir, target).replaceAll('\\', '/');
        return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
      });
    },
  };
}

/**
 * Builds `files` (paths under test/ or test/soak/) and returns, for each, the path of its bundle:
 * test/x.test.ts becomes test-dist/x.test.mjs, test/soak/y.soak.ts test-dist/soak/y.soak.mjs.
 */
export async function buildTests(files) {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(join(OUT, 'soak'), { recursive: true });
  // The helpers a soak file bundles (test/child.ts and others) find the fixtures next to themselves.
  symlinkSync(join('..', 'test', 'fixtures'), join(OUT, 'fixtures'));
  symlinkSync(join('..', '..', 'test', 'fixtures'), join(OUT, 'soak', 'fixtures'));
  const out = files.map((f) => join(OUT, relative(join(root, 'test'), resolve(root, f))).replace(/\.ts$/, '.mjs'));
  const byDir = new Map();
  files.forEach((f, i) => {
    const dir = dirname(out[i]);
    if (!byDir.has(dir)) byDir.set(dir, []);
    byDir.get(dir).push({ in: resolve(root, f), out: basename(out[i], '.mjs') });
  });
  for (const [outdir, entryPoints] of byDir) {
    await build({
      entryPoints,
      outdir,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      logLevel: 'warning',
      plugins: [stayOutside(outdir)],
    });
  }
  return out;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const soak = process.argv.includes('--soak');
  const dir = soak ? 'test/soak' : 'test';
  const files = readdirSync(join(root, dir)).filter((f) => f.endsWith(soak ? '.soak.ts' : '.test.ts')).map((f) => join(dir, f));
  const t0 = Date.now();
  const built = await buildTests(files);
  process.stdout.write(`${built.length} ${basename(dir)} files built into ${relative(root, OUT)}/ in ${Date.now() - t0} ms\n`);
}
