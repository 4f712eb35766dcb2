/**
 * Open producers of this process, by the real path of their log directory, so that a consumer opened
 * in the same process waits on the producer's shared memory instead of tailing files.
 */
import type { ControlViews, SharedLog } from '../ring/layout.js';

export interface LocalProducer {
  readonly shared: SharedLog;
  /** Typed views on `shared.control`, made once. */
  readonly views: ControlViews;
  /** The offset the producer's next append will get (records below may still be in the ring). */
  nextOffset(): number;
}

const open = new Map<string, LocalProducer>();

export function registerProducer(realDir: string, p: LocalProducer): void {
  open.set(realDir, p);
}

export function unregisterProducer(realDir: string, p: LocalProducer): void {
  if (open.get(realDir) === p) open.delete(realDir);
}

export function localProducer(realDir: string): LocalProducer | undefined {
  return open.get(realDir);
}
