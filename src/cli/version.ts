/** The package's version, read from package.json beside dist/ (the CLI is built to dist/cli.js). */
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'reactive-log' && typeof pkg.version === 'string') return pkg.version;
    } catch { /* try the next place */ }
  }
  return 'unknown';
}
