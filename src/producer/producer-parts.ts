/**
 * The parts a Producer handle is made of, wired from a locked directory with its writer running
 * (open-writer.ts): the link to the writer thread, the appends, the shutdown paths, the waiter of
 * flush(), the registry entry and the funnel's listener. `startProducer` is Producer.open's last
 * step: the dedup window rebuilt, the producer registered and announced, the listener started.
 */
import { publish, channels, type RecoveryEvent } from '../events.js';
import { startFunnel, type FunnelServer } from '../funnel/server.js';
import type { FunnelTarget } from '../funnel/owner-connection.js';
import { I32, State, controlViews, type ControlViews, type SharedLog } from '../ring/layout.js';
import { RingAppender } from '../ring/ring-appender.js';
import { WriterAliveCheck } from '../ring/writer-alive.js';
import type { RecoveryReport } from '../types.js';
import type { DurableWaiter } from './durable-wait.js';
import type { OpenWriter } from './open-writer.js';
import type { ResolvedProducerOptions } from './options.js';
import { OwnerAppends } from './owner-appends.js';
import { registerProducer, type LocalProducer } from './registry.js';
import { ProducerShutdown } from './shutdown.js';
import { WriterLink } from './writer-link.js';

export interface ProducerParts {
  /** The options with every default applied (`logDir` as its real path). */
  readonly options: ResolvedProducerOptions;
  readonly recovery: RecoveryReport;
  readonly shared: SharedLog;
  readonly c: ControlViews;
  /** The writer thread: its messages, exit, failure and control calls. */
  readonly link: WriterLink;
  /** What in-process consumers see of this producer. */
  readonly local: LocalProducer;
  /** The handle's appends: the next offset, the dedup window, the shared path after share(). */
  readonly appends: OwnerAppends;
  /** close(), destroy() and the close at process exit. */
  readonly shutdown: ProducerShutdown;
  /** What flush() needs (durable-wait.ts). */
  readonly durableWaiter: DurableWaiter;
  /** The listener of `acceptConnections` (src/funnel/); stopped before the writer stops. */
  funnel: FunnelServer | null;
  /** Throws why the producer stopped. */
  readonly throwStopped: () => never;
}

/** The handle's parts over `opened`; nothing runs yet but the exit hook's registration. */
export function wireProducer(opened: OpenWriter): ProducerParts {
  const { options, shared, worker, ready } = opened;
  const c = controlViews(shared.control);
  const link = new WriterLink(worker, c, options.logDir, opened.controlPort);
  const local: LocalProducer = { shared, views: c, nextOffset: () => appends.nextOffset, dirIdentity: opened.dirIdentity };
  const throwStopped = (): never => {
    throw shutdown.stoppedError();
  };
  // A wait for ring space blocks this thread's event loop, so the writer thread's exit event cannot
  // reach it: the wait looks for the thread itself (writer-alive.ts).
  const writerAlive = new WriterAliveCheck(c);
  const hooks = { check: (waiting: boolean): void => { if (waiting) writerAlive.check(); } };
  const appender = new RingAppender(c, shared.ring, options.maxRecordBytes, options.appendTimeoutMs, throwStopped, options.dedupWindow !== null, hooks);
  const appends = new OwnerAppends(c, appender, ready.nextOffset, options.appendTimeoutMs, throwStopped);
  // The listener is started last (startProducer); the shutdown reads it when it stops.
  const shutdown = new ProducerShutdown({
    c, link, worker, lock: opened.lock, realDir: options.logDir, local, funnel: () => parts.funnel, sharedAppends: () => appends.shared,
  });
  const parts: ProducerParts = {
    options, recovery: { truncated: ready.truncated, removed: ready.removed }, shared, c, link, local, appends, shutdown,
    durableWaiter: shutdown.durableWaiter(options.appendTimeoutMs), funnel: null, throwStopped,
  };
  return parts;
}

/**
 * Open's last steps: the dedup window rebuilt from the newest segments, the producer registered for
 * in-process consumers, the writer unref'd, the listener started, and the open announced on the recovery channel.
 */
export async function startProducer(p: ProducerParts, opened: OpenWriter, append: FunnelTarget['append'], flush: () => Promise<void>): Promise<void> {
  const realDir = p.options.logDir;
  if (p.options.dedupWindow !== null) p.appends.rebuildDedup(opened.io, realDir, p.options.dedupWindow);
  registerProducer(realDir, p.local);
  opened.worker.unref();
  p.funnel = await startFunnel(funnelTarget(p, append, flush), realDir, p.options.acceptConnections);
  // Once the open can no longer fail: an open that rejects (its listener refused) announces nothing.
  // Copies: a subscriber that changes its payload leaves producer.recovery as recovery reported it.
  const { truncated, removed } = p.recovery;
  publish(channels.recovery, (): RecoveryEvent => ({ logDir: realDir, nextOffset: opened.ready.nextOffset, truncated: truncated === null ? null : { ...truncated }, removed: [...removed] }));
}

/** What the funnel (src/funnel/) appends through: the producer, and runs of records already encoded. */
function funnelTarget(p: ProducerParts, append: FunnelTarget['append'], flush: () => Promise<void>): FunnelTarget {
  return {
    options: p.options,
    append,
    flush,
    appendRun: (body, start, end, progress) => {
      if (Atomics.load(p.c.i32, I32.STATE) !== State.RUNNING) p.throwStopped();
      return p.appends.appendRun(body, start, end, progress);
    },
  };
}
