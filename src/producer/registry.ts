/**
 * Open producers of this process, by the real path of their log directory, so that a consumer opened
 * in the same process waits on the producer's shared memory instead of tailing files.
 *
 * Other threads: the producer also puts its shared memory in the thread's environment data
 * (worker_threads.setEnvironmentData), which Node hands to every worker started from then on (and to
 * their workers), the SharedArrayBuffers shared, not copied. A consumer or pool worker on such a
 * thread finds the producer there and waits on its published offsets too. A thread started before
 * the producer opened, or one whose producer has closed (its control block says so), tails the files
 * as another process does.
 *
 * The table lives on `globalThis` under a key that names the control block's layout, so that two
 * copies of this module in one process (an app that both imports and requires the package) share it:
 * a consumer of one copy finds the producer of the other. Copies with another layout use another key
 * and never read each other's shared memory.
 */
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { CONTROL_BYTES, CONTROL_LAYOUT_VERSION, controlViews, publishedEnd, writerPublishing, type ControlViews, type SharedLog } from '../ring/layout.js';
import type { DirIdentity } from '../reader/dir-identity.js';

/** What an in-process consumer sees of a producer. */
export interface LocalProducer {
  /** The producer's control block and ring. */
  readonly shared: SharedLog;
  /** Typed views on `shared.control`, made once. */
  readonly views: ControlViews;
  /** The offset the producer's next append will get (records below may still be in the ring). */
  nextOffset(): number;
  /**
   * The device and inode of the directory the producer opened (null: unknown). Registered by path, it
   * may no longer be the directory at that path: a consumer compares it with its own (local-source.ts).
   */
  readonly dirIdentity: DirIdentity;
}

const REGISTRY_KEY = Symbol.for(`reactive-log.local-producers.layout-${CONTROL_LAYOUT_VERSION}`);
const registryHost = globalThis as { [REGISTRY_KEY]?: Map<string, LocalProducer> };
const open: Map<string, LocalProducer> = (registryHost[REGISTRY_KEY] ??= new Map());

/** A producer opened `realDir`: registered for this thread, and for the threads it starts from now on. */
export function registerProducer(realDir: string, p: LocalProducer): void {
  open.set(realDir, p);
  setEnvironmentData(environmentKey(realDir), { control: p.shared.control, ring: p.shared.ring, dir: p.dirIdentity });
}

/** The producer `p` closed `realDir` (a later producer of the same directory stays registered). */
export function unregisterProducer(realDir: string, p: LocalProducer): void {
  if (open.get(realDir) !== p) return;
  open.delete(realDir);
  setEnvironmentData(environmentKey(realDir), undefined);
}

/** The producer of `realDir` open in this process (this thread's, else one a parent thread handed down), if any. */
export function localProducer(realDir: string): LocalProducer | undefined {
  return open.get(realDir) ?? handedDown(realDir);
}

function environmentKey(realDir: string): string {
  return `reactive-log.producer.layout-${CONTROL_LAYOUT_VERSION}:${realDir}`;
}

/** Producers found in the environment data, by control block: one set of views each. */
const fromEnvironment = new WeakMap<SharedArrayBuffer, LocalProducer>();

/** The producer a parent thread handed down for `realDir`, while its writer still publishes. */
function handedDown(realDir: string): LocalProducer | undefined {
  const entry = getEnvironmentData(environmentKey(realDir)) as (Partial<SharedLog> & { dir?: DirIdentity }) | undefined;
  const control = entry?.control;
  if (!(control instanceof SharedArrayBuffer) || control.byteLength !== CONTROL_BYTES || !(entry?.ring instanceof SharedArrayBuffer)) return undefined;
  let p = fromEnvironment.get(control);
  if (p === undefined) {
    const views = controlViews(control);
    // The owner's own counter is on its thread: the written end stands for it, as for another process.
    const nextOffset = (): number => publishedEnd(views, 'written');
    p = { shared: { control, ring: entry.ring }, views, nextOffset, dirIdentity: entry.dir ?? null };
    fromEnvironment.set(control, p);
  }
  return writerPublishing(p.views) ? p : undefined;
}
