import { rmSync } from 'node:fs';
import { defineConfig } from 'tsup';

// The library ships as ESM and CJS. Each worker is its own entry: esbuild does not follow
// `new URL('./writer.js', import.meta.url)`, so the worker files must be built beside index.js.
//
// dist/ is emptied once, here, before both builds: the two configurations run concurrently into the
// same folder, so tsup's own `clean` in either one could delete the other's output mid-build.
// No source maps: the package ships what runs, and the built files keep the sources' names and layout.
// The declaration builds strip every member tagged `@internal` (public in the sources for the library's
// own use only); the typecheck (tsconfig.json, test/tsconfig.json) keeps them, so the tests may use them.
export default defineConfig((options) => {
  if (!options.watch) rmSync('dist', { recursive: true, force: true });
  return [
    {
      // ESM: the library, both workers and the command share their chunks.
      entry: { index: 'src/index.ts', writer: 'workers/writer.ts', 'pool-worker': 'workers/pool-worker.ts', cli: 'src/cli.ts' },
      format: ['esm'],
      dts: { entry: { index: 'src/index.ts' }, compilerOptions: { stripInternal: true } },
      sourcemap: false,
      clean: false,
      target: 'node20',
      external: ['piscina'],
    },
    {
      // CommonJS: the library alone; it starts the ESM worker files beside it.
      entry: { index: 'src/index.ts' },
      format: ['cjs'],
      dts: { compilerOptions: { stripInternal: true } },
      shims: true,
      sourcemap: false,
      clean: false,
      target: 'node20',
      external: ['piscina'],
    },
  ];
});
