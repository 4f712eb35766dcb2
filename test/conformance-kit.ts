/**
 * The conformance suite's kit: the same test cases, run against every backend. `conformance(name,
 * define)` makes one uvu suite per backend (local: a temporary log directory; jetstream: a fresh
 * stream on a nats-server this file starts on 127.0.0.1 and stops) and calls `define(test, b)` for
 * each, so a case is written once. Without nats-server the JetStream half is skipped with a printed
 * reason, never silently.
 *
 * Tests run on dist/ (build first: npm run build --silent).
 */
import type { Test } from 'uvu';
import {
  Consumer, Producer, SyncPolicy, type BackendProducer, type ConsumerStyle, type ConsumerOptions, type ProducerOptions,
} from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, tempDir } from './kit.js';
import { natsServerBinary, SKIP_REASON, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

export type BackendName = 'local' | 'jetstream';

/** What the cases need of a producer: the part of the API both backends share. */
export type AnyProducer = Pick<BackendProducer, 'append' | 'flush' | 'close' | 'destroy' | 'error' | 'nextOffset' | 'durableOffset'>;

/** One fresh, empty log on a backend. */
export interface LogUnderTest {
  readonly backend: BackendName;
  /** Where the log is, as Producer.open and Consumer.open take it. */
  readonly where: Record<string, unknown>;
  /** The same as JSON for a child process: `{ logDir }` or `{ jetstream: options of jetstream() }`. */
  readonly childWhere: string;
  /** Opens its producer (SyncPolicy.never() unless `extra` says otherwise). */
  producer(extra?: Record<string, unknown>): Promise<AnyProducer>;
  /** Opens a consumer of the given style. */
  consumer(style: ConsumerStyle, extra?: Record<string, unknown>): Promise<Consumer>;
}

export interface BackendUnderTest {
  readonly name: BackendName;
  fresh(): Promise<LogUnderTest>;
}

let server: NatsServer | null = null;
let streams = 0;

function logUnderTest(backend: BackendName, where: Record<string, unknown>, childWhere: unknown): LogUnderTest {
  return {
    backend,
    where,
    childWhere: JSON.stringify(childWhere),
    producer: (extra = {}) => Producer.open({ ...where, syncPolicy: SyncPolicy.never(), ...extra } as unknown as ProducerOptions) as Promise<AnyProducer>,
    consumer: (style, extra = {}) => Consumer.open({ ...where, style, ...extra } as unknown as ConsumerOptions),
  };
}

const local: BackendUnderTest = {
  name: 'local',
  fresh: async () => {
    const logDir = tempDir('rlog-conf-');
    return logUnderTest('local', { logDir }, { logDir });
  },
};

const js: BackendUnderTest = {
  name: 'jetstream',
  fresh: async () => {
    server ??= await startNats();
    const stream = `conf-${process.pid}-${++streams}`;
    // Short leases: a case that kills a holder sees it taken over within a few seconds. Not shorter:
    // with 1,000 ms a producer's renewals starved past its lease on a loaded 2-core machine
    // (conformance-kill, load average 12: ERR_LOG_LOCKED "no renewal reached the server").
    const options = { servers: server.url, stream, leaseMs: 2_000, timeoutMs: 5_000 };
    return logUnderTest('jetstream', { backend: jetstream(options) }, { jetstream: options });
  },
};

/** The backends this run covers; prints why JetStream is skipped when it is. */
export function backends(): BackendUnderTest[] {
  if (natsServerBinary() === null) {
    process.stdout.write(`# ${SKIP_REASON}\n`);
    return [local];
  }
  return [local, js];
}

/** The nats-server URL of this file's server (starting it if need be). */
export async function natsUrl(): Promise<string> {
  server ??= await startNats();
  return server.url;
}

/** One suite per backend, each defined by `define`, run in order; the server is stopped after the last. */
export function conformance(name: string, define: (test: Test, b: BackendUnderTest) => void): void {
  const all = backends();
  all.forEach((b, i) => {
    const test = suite(`${name} [${b.name}]`);
    define(test, b);
    if (i === all.length - 1) test.after(stopAllNats);
    test.run();
  });
}

/** Reads every record now in the log with a nonTx consumer from the oldest (nonblockingProcess). */
export async function readAll(log: LogUnderTest): Promise<Array<{ offset: number; text: string; timestamp: number }>> {
  const { Whence, ConsumerStyle } = await import('../dist/index.js');
  const c = await log.consumer(ConsumerStyle.nonTx(Whence.oldest()));
  const out: Array<{ offset: number; text: string; timestamp: number }> = [];
  try {
    await c.nonblockingProcess(null, (m) => {
      out.push({ offset: m.offset, text: Buffer.from(m.data).toString(), timestamp: m.timestamp });
      return 'commit';
    });
  } finally {
    await c.close();
  }
  return out;
}
