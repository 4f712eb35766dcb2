import { defineConfig } from 'tsup';

// The library ships as ESM and CJS. Each worker is its own entry: esbuild does not follow
// `new URL('./writer.js', import.meta.url)`, so the worker files must be built beside index.js.
export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    shims: true,
    sourcemap: true,
    clean: false,
    target: 'node20',
    external: ['piscina'],
  },
  {
    entry: { writer: 'workers/writer.ts', 'pool-worker': 'workers/pool-worker.ts', cli: 'src/cli.ts' },
    format: ['esm'],
    sourcemap: true,
    clean: false,
    target: 'node20',
    external: ['piscina'],
  },
]);
