/**
 * A require() that resolves from this package's own file, for the dependencies it loads only when
 * needed (fs-native-extensions, piscina). The file is `__filename` where that names one (the CommonJS
 * build, an app bundled to CommonJS: there import.meta.url is made from `__filename` unescaped and so
 * is wrong under a path holding '#', '%' or '?'), else import.meta.url. A `__filename` that is no
 * absolute path is not this file's: code run through `new Worker(source, { eval: true })` sees
 * `'[worker eval]'` there.
 */
import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';

export function packageRequire(): NodeJS.Require {
  return createRequire(typeof __filename === 'string' && isAbsolute(__filename) ? __filename : import.meta.url);
}
