import { rmSync } from 'node:fs';
import { buildSync } from 'esbuild';
import { defineConfig } from 'tsup';

// The library ships as ESM and CJS, with its two worker entries inside it. The build has two steps:
//
// 1. Each worker entry (workers/writer.ts, workers/pool-worker.ts) is bundled alone into one ES module
//    with every source file it uses inlined; only node: builtins stay imports (neither worker loads
//    piscina or fs-native-extensions: the writer never takes the lock, and the pool worker only
//    imports the user's handler module). The text is kept in memory, not written to dist/.
// 2. The library (ESM: index and cli, sharing chunks; CJS: index) is built with those texts in place
//    of the constants REACTIVE_LOG_WRITER_CODE and REACTIVE_LOG_POOL_WORKER_CODE (src/embedded.ts).
//    So dist/ holds no worker file, and an app that bundles the library has none to copy.
//
// 3. The JetStream backend (src/jetstream/) is a third entry, `reactive-log/jetstream`: only it imports
//    the @nats-io packages, which stay external (optional peer dependencies, never bundled); the main
//    entry never loads them. Its chunks are shared with the main entry (ESM and CJS), so both see one
//    LogError class and one Consumer.
//
// dist/ is emptied once, here, before both builds: the two configurations run concurrently into the
// same folder, so tsup's own `clean` in either one could delete the other's output mid-build.
// No source maps: the package ships what runs, and the built files keep the sources' names and layout.
// The declaration builds strip every member tagged `@internal` (public in the sources for the library's
// own use only); the typecheck (tsconfig.json, test/tsconfig.json) keeps them, so the tests may use them.
// In watch mode the worker texts are those of the start: a change under workers/ or in the sources
// they use needs a new `tsup --watch`.

/** One worker entry bundled into a single ES module; `banner` is its first line, `define` its constants. */
function workerModule(entry: string, banner: string, define: Record<string, string> = {}): string {
  const out = buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    // Whitespace and syntax only: the names stay, for readable stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    banner: { js: banner },
    define,
    logLevel: 'warning',
  });
  const text = out.outputFiles[0]!.text;
  // A worker that came to import a package (piscina, the native lock addon) would fail in a data: URL
  // and in a bundled app: the build stops instead.
  // Static and dynamic imports, require('x'), and createRequire(...)('x').
  const imports = [...text.matchAll(/\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']|\brequire\s*\(\s*["']([^"']+)["']|\)\s*\(\s*["']([^"']+)["']\s*\)/g)]
    .map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]);
  const foreign = imports.filter((s) => !s!.startsWith('node:'));
  if (foreign.length > 0) throw new Error(`${entry}: the embedded worker imports ${foreign.join(', ')}; it may import node: builtins only`);
  return text;
}

export default defineConfig((options) => {
  if (!options.watch) rmSync('dist', { recursive: true, force: true });
  const define = {
    REACTIVE_LOG_WRITER_CODE: JSON.stringify(workerModule('workers/writer.ts', '// reactive-log writer')),
    REACTIVE_LOG_POOL_WORKER_CODE: JSON.stringify(workerModule('workers/pool-worker.ts', '// reactive-log pool worker')),
  };
  return [
    {
      // ESM: the library and the command share their chunks.
      entry: { index: 'src/index.ts', cli: 'src/cli.ts', jetstream: 'src/jetstream/index.ts' },
      format: ['esm'],
      dts: { entry: { index: 'src/index.ts', jetstream: 'src/jetstream/index.ts' }, compilerOptions: { stripInternal: true } },
      sourcemap: false,
      clean: false,
      target: 'node20',
      external: ['piscina', 'fs-native-extensions', /^@nats-io\//],
      // comlink (the control calls to the writer thread) is small and pure JavaScript: inside the library.
      noExternal: ['comlink'],
      define,
    },
    {
      // CommonJS: the library alone.
      entry: { index: 'src/index.ts', jetstream: 'src/jetstream/index.ts' },
      format: ['cjs'],
      // One copy of the library's modules (LogError, the consumer) shared by both entries.
      splitting: true,
      dts: { compilerOptions: { stripInternal: true } },
      shims: true,
      sourcemap: false,
      clean: false,
      target: 'node20',
      external: ['piscina', 'fs-native-extensions', /^@nats-io\//],
      // comlink (the control calls to the writer thread) is small and pure JavaScript: inside the library.
      noExternal: ['comlink'],
      define,
    },
  ];
});
