/** Real paths of paths that may not exist yet. */
import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { absolutePath } from '../validate.js';

/**
 * The real path of `path`, through its nearest existing ancestor when it does not exist yet. The walk
 * starts from the path as given (made absolute, not cleaned): the system resolves a '..' after a
 * symbolic link as the parent of the link's target, as an open of the path does, where a cleaning
 * by text would drop the link and its '..' both and name another directory.
 */
export function realPathOf(path: string): string {
  const rest: string[] = [];
  for (let p = absolutePath(path); ; p = dirname(p)) {
    try {
      return join(realpathSync.native(p), ...rest.reverse());
    } catch {
      if (dirname(p) === p) return resolve(path);
      rest.push(basename(p));
    }
  }
}

/**
 * Whether `path` is `dir` or lies inside it (both real paths). A relative path that leaves `dir` is
 * '..' or starts with '..' and a separator: an entry named '..dead' lies inside.
 */
export function within(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
