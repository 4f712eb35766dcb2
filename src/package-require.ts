/**
 * Loads the dependencies the library needs only when it uses them (fs-native-extensions, piscina) with
 * a require() that resolves from this package's own file: `__filename` where that names one (the
 * CommonJS build, an app bundled to CommonJS: there import.meta.url is made from `__filename` unescaped
 * and so is wrong under a path holding '#', '%' or '?'), else import.meta.url. A `__filename` that is
 * no absolute path is not this file's: code run through `new Worker(source, { eval: true })` sees
 * `'[worker eval]'` there.
 *
 * In a bundle that file may not be where the app runs: webpack's ES module output puts the build's
 * path in import.meta.url and a mock in `__filename`. So outside node_modules (a bundle, a checkout)
 * a package not found from there is looked up from the main script (process.argv[1]), then from the
 * working directory, as the app's own require would find it. `createRequire` comes from
 * process.getBuiltinModule, not from an import: webpack 5 rewrites a call of an imported
 * createRequire whose argument is not import.meta.url into `undefined`.
 */
import { isAbsolute, join } from 'node:path';

/** This file: `__filename` where it names one, else import.meta.url (webpack's ES module output says "string" for `typeof __filename` and then has none). */
function ownFile(): string {
  try {
    if (typeof __filename === 'string' && isAbsolute(__filename)) return __filename;
  } catch { /* no __filename after all */ }
  return import.meta.url;
}

/** Package `id`, required from the first of this file, the main script and the working directory that finds it. */
export function requirePackage(id: string): unknown {
  const { createRequire } = process.getBuiltinModule('node:module');
  const own = ownFile();
  const main = process.argv[1];
  // Installed (a file under node_modules), the library finds its own dependencies or none: another
  // copy near the main script or the working directory may be of another version.
  const installed = /[\\/]node_modules[\\/]/.test(own);
  const bases = installed ? [own] : [own, ...(typeof main === 'string' && isAbsolute(main) ? [main] : []), join(process.cwd(), 'index.js')];
  let first: unknown = null;
  for (const base of bases) {
    try {
      return createRequire(base)(id);
    } catch (e) {
      // Only the package itself not found from here: any other failure (a broken addon, a missing
      // dependency of the package) is the answer.
      if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' || !String((e as Error).message).includes(`'${id}'`)) throw e;
      first ??= e;
    }
  }
  throw first;
}
