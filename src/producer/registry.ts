/**
 * Open producers of this process, by the real path of their log directory, so that a consumer opened
 * in the same process waits on the producer's shared memory instead of tailing files.
 *
 * The table lives on `globalThis` under a key that names the control block's layout, so that two
 * copies of this module in one process (an app that both imports and requires the package) share it:
 * a consumer of one copy finds the producer of the other. Copies with another layout use another key
 * and never read each other's shared memory.
 */
import { CONTROL_LAYOUT_VERSION, type ControlViews, type SharedLog } from '../ring/layout.js';

/** What an in-process consumer sees of a producer. */
export interface LocalProducer {
  /** The producer's control block and ring. */
  readonly shared: SharedLog;
  /** Typed views on `shared.control`, made once. */
  readonly views: ControlViews;
  /** The offset the producer's next append will get (records below may still be in the ring). */
  nextOffset(): number;
}

const REGISTRY_KEY = Symbol.for(`reactive-log.local-producers.layout-${CONTROL_LAYOUT_VERSION}`);
const registryHost = globalThis as { [REGISTRY_KEY]?: Map<string, LocalProducer> };
const open: Map<string, LocalProducer> = (registryHost[REGISTRY_KEY] ??= new Map());

/** A producer opened `realDir`. */
export function registerProducer(realDir: string, p: LocalProducer): void {
  open.set(realDir, p);
}

/** The producer `p` closed `realDir` (a later producer of the same directory stays registered). */
export function unregisterProducer(realDir: string, p: LocalProducer): void {
  if (open.get(realDir) === p) open.delete(realDir);
}

/** The producer of `realDir` open in this process, if any. */
export function localProducer(realDir: string): LocalProducer | undefined {
  return open.get(realDir);
}
