#!/usr/bin/env node
// Runs every test/*.test.ts file in its own Node process (through tsx), so that a worker, a lock or a
// child process left behind by one file cannot disturb the next. Prints uvu's output and a closing
// line "N passed, N failed". `--soak` also runs test/soak/*.soak.ts; `--filter x` runs matching files.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const soak = args.includes('--soak');
const filterAt = args.indexOf('--filter');
const filter = filterAt >= 0 ? args[filterAt + 1] : undefined;
const passThrough = soak ? args.filter((a, i) => a !== '--soak' && i !== filterAt && i !== filterAt + 1) : [];

const dirs = soak ? ['test/soak'] : ['test'];
const files = dirs.flatMap((d) =>
  readdirSync(d)
    .filter((f) => (soak ? f.endsWith('.soak.ts') : f.endsWith('.test.ts')))
    .filter((f) => (filter ? f.includes(filter) : true))
    .sort()
    .map((f) => join(d, f)),
);

let passed = 0;
let failed = 0;
const failedFiles = [];
const started = Date.now();
for (const file of files) {
  const t0 = Date.now();
  process.stdout.write(`\n# ${file}\n`);
  // A soak streams its progress as it goes (it may run for an hour); its exit status is its verdict.
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...passThrough], {
    encoding: 'utf8',
    stdio: ['ignore', soak ? 'inherit' : 'pipe', soak ? 'inherit' : 'pipe'],
    // Soak runs are as long as their --iterations ask; regular test files get 8 minutes.
    timeout: soak ? 0 : 8 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(r.stdout ?? '');
  process.stderr.write(r.stderr ?? '');
  const total = soak ? 1 : Number(/Total:\s+(\d+)/.exec(r.stdout ?? '')?.[1] ?? 0);
  const ok = soak ? (r.status === 0 ? 1 : 0) : Number(/Passed:\s+(\d+)/.exec(r.stdout ?? '')?.[1] ?? 0);
  passed += ok;
  const bad = total - ok;
  if (r.status !== 0 || bad > 0 || total === 0) {
    failed += Math.max(bad, 1);
    failedFiles.push(`${file} (exit ${r.status ?? r.signal}${r.error ? ', ' + r.error.message : ''})`);
  }
  process.stdout.write(`# ${file}: ${ok}/${total} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
process.stdout.write(`\n${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
if (failedFiles.length > 0) process.stdout.write(`failed files:\n  ${failedFiles.join('\n  ')}\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
