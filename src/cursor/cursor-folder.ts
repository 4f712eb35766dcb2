/**
 * The `cursors/` folder of a log directory: its name, the names of the files in it, and how a listing
 * that fails is read (docs/format.md, "The cursors folder").
 */
import { join } from 'node:path';
import { LogError } from '../errors.js';
import type { FileIO } from '../storage/file-io.js';

/** The folder of a log directory that holds the cursor files and their locks. */
export const CURSOR_DIR = 'cursors';
/** A cursor file is `<name>.cursor`, beside its lock `<name>.lock`. */
export const CURSOR_SUFFIX = '.cursor';

/** The cursor folder of `logDir`. */
export function cursorDir(logDir: string): string {
  return join(logDir, CURSOR_DIR);
}

/**
 * The names in the cursors folder `folder`, sorted; none when there is no folder (no consumer made a
 * cursor yet). Any other failure is ERR_IO: it would hide cursors, never "none".
 */
export function cursorFolderNames(io: FileIO, folder: string): string[] {
  try {
    return io.readdir(folder).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw LogError.fromSystem(e, 'listing the cursors', folder);
  }
}
