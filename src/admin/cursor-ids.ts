/**
 * Cursors as the admin API names them. A `clientTx(id)` cursor is named by its consumer id
 * (`cursors/client.<id>.cursor`); the one `globalTx()` cursor by `GLOBAL_CURSOR_ID` ('@global'),
 * which no consumer id can be ('@' is not allowed in one), so the two never collide.
 */
import { join } from 'node:path';
import { validateConsumerId } from '../consumer/consumer-options.js';
import { CURSOR_SUFFIX, cursorDir } from '../cursor/tx-cursor.js';
import { ErrorCode, LogError } from '../errors.js';
import { describe } from '../validate.js';

/** The admin id of the `globalTx()` cursor, `'@global'`, which no consumer id can be; for {@link resetCursor} and {@link deleteCursor}. */
export const GLOBAL_CURSOR_ID = '@global';

const CLIENT_PREFIX = 'client.';

/** A cursor's files, by its admin id. */
export interface CursorNames {
  readonly id: string;
  readonly style: 'clientTx' | 'globalTx';
  /** The file stem: `client.<id>` or `global`. */
  readonly stem: string;
  readonly filePath: string;
  readonly lockPath: string;
}

/** The files of cursor `id` in `logDir`; ERR_INVALID_CONSUMER_ID for an id no cursor can have. */
export function cursorNames(logDir: string, id: unknown): CursorNames {
  if (id === GLOBAL_CURSOR_ID) return namesOf(logDir, GLOBAL_CURSOR_ID, 'globalTx', 'global');
  if (typeof id !== 'string') throw new LogError(ErrorCode.INVALID_CONSUMER_ID, `invalid cursor id ${describe(id)}: expected a consumer id or '${GLOBAL_CURSOR_ID}'`);
  return namesOf(logDir, validateConsumerId(id), 'clientTx', `${CLIENT_PREFIX}${id}`);
}

function namesOf(logDir: string, id: string, style: CursorNames['style'], stem: string): CursorNames {
  const dir = cursorDir(logDir);
  return { id, style, stem, filePath: join(dir, `${stem}${CURSOR_SUFFIX}`), lockPath: join(dir, `${stem}.lock`) };
}

/** The admin id of a cursor file name (`client.billing.cursor` → 'billing'); null for other names. */
export function cursorIdOfFile(name: string): string | null {
  if (!name.endsWith(CURSOR_SUFFIX)) return null;
  const stem = name.slice(0, -CURSOR_SUFFIX.length);
  if (stem === 'global') return GLOBAL_CURSOR_ID;
  if (!stem.startsWith(CLIENT_PREFIX)) return null;
  const id = stem.slice(CLIENT_PREFIX.length);
  try {
    return validateConsumerId(id);
  } catch {
    return null;
  }
}
