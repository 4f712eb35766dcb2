/**
 * The file piscina starts each consumer pool thread from. piscina loads a thread's task function from
 * a file (its worker requires or imports an absolute path; a data: URL does not pass through it), so
 * the pool worker's embedded module (src/embedded.ts) is written once per process into a new private
 * folder in the system's temporary directory (mkdtemp: mode 0700, a name no other user can foresee),
 * and the folder is removed when the process exits.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poolWorkerCode } from '../embedded.js';
import { ErrorCode, LogError } from '../errors.js';
import { valueText } from './handler-policy.js';

let file: string | null = null;

/** The pool worker module's path, written on the first call of the process. */
export function poolWorkerFile(): string {
  // A cleaner of the temporary directory (systemd-tmpfiles, macOS) may delete the file under a
  // long-running process: then it is written anew.
  if (file !== null && existsSync(file)) return file;
  const code = poolWorkerCode();
  let dir: string | null = null;
  try {
    dir = mkdtempSync(join(tmpdir(), 'reactive-log-'));
    const path = join(dir, 'pool-worker.mjs');
    writeFileSync(path, code, { mode: 0o600 });
    const written = dir;
    process.once('exit', () => rmSync(written, { recursive: true, force: true }));
    file = path;
    return path;
  } catch (e) {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
    throw new LogError(ErrorCode.WORKER_FAILED, `cannot write the consumer pool's worker module into ${tmpdir()}: ${valueText(e)}`, {}, { cause: e });
  }
}
