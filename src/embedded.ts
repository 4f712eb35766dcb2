/**
 * The code of the two worker entries (workers/writer.ts and workers/pool-worker.ts), each bundled into
 * one self-contained ES module that imports only node: builtins. The build (tsup.config.ts) bundles
 * them first and writes their text into the library in place of the two constants below, so the
 * library starts its threads from its own code and never looks for a worker file beside itself: an
 * app that bundles the library has nothing to copy.
 */
import { ErrorCode, LogError } from './errors.js';

declare const REACTIVE_LOG_WRITER_CODE: string | undefined;
declare const REACTIVE_LOG_POOL_WORKER_CODE: string | undefined;

/** The text of one worker entry; `code` (ERR_WRITER_FAILED or ERR_WORKER_FAILED) when the library runs from its sources, unbuilt. */
function embedded(text: string | undefined, what: string, code: ErrorCode): string {
  if (typeof text !== 'string') {
    throw new LogError(code, `the ${what} code is not embedded in this copy of the library: threads start from the built package (npm run build)`);
  }
  return text;
}

/** The writer thread's module. */
export function writerCode(): string {
  return embedded(typeof REACTIVE_LOG_WRITER_CODE === 'string' ? REACTIVE_LOG_WRITER_CODE : undefined, 'writer', ErrorCode.WRITER_FAILED);
}

/** A consumer pool worker's module (its default export is piscina's task function). */
export function poolWorkerCode(): string {
  return embedded(typeof REACTIVE_LOG_POOL_WORKER_CODE === 'string' ? REACTIVE_LOG_POOL_WORKER_CODE : undefined, 'pool worker', ErrorCode.WORKER_FAILED);
}

/**
 * A worker module's text as a data: URL, for `new Worker(url)`: the thread runs it as an ES module
 * straight from the library's memory. `sourceName` names it in stack traces, profiles and warnings
 * (else each frame carries the whole URL).
 */
export function moduleUrl(code: string, sourceName: string): URL {
  return new URL(`data:text/javascript,${encodeURIComponent(`${code}\n//# sourceURL=${sourceName}\n`)}`);
}
