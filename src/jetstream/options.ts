/** The options of `jetstream(options)`, checked, with their defaults. */
import { LogError } from '../errors.js';
import { describe, requireInt } from '../validate.js';

/** What `jetstream(options)` takes: where the server is and which stream holds the log. */
export interface JetStreamBackendOptions {
  /** The NATS server URL(s), e.g. `'nats://127.0.0.1:4222'`. Required. */
  servers: string | string[];
  /**
   * The stream that holds the log: letters, digits, '_' and '-', up to 64 characters. Created at the
   * first open (file storage, `replicas`) when it does not exist. Required.
   */
  stream: string;
  /**
   * The one subject the log's records are published on: dot-separated tokens of letters, digits, '_'
   * and '-', up to 2,048 bytes.
   * @defaultValue `rl.<stream>`
   */
  subject?: string;
  /**
   * Replicas of the stream and of its key-value buckets when this backend creates them: 1, 3 or 5.
   * An existing stream keeps its own.
   * @defaultValue `1`
   */
  replicas?: 1 | 3 | 5;
  /**
   * How long a producer's or a transactional cursor's lease lives without renewal, ms (1,000 to
   * 600,000): a handle whose process died is taken over this long after its last renewal.
   * @defaultValue `10_000`
   */
  leaseMs?: number;
  /**
   * The bound on a connect, an API request and a publish acknowledgement, ms (100 to 600,000). A
   * producer whose publish failed resyncs with the stream, and a consumer retries its reads and
   * commits, until 2 x timeoutMs pass since the first failure with no progress; then ERR_IO.
   * @defaultValue `5_000`
   */
  timeoutMs?: number;
  /**
   * The producer's queue of records appended and not yet acknowledged, bytes (64 KiB to 1 GiB):
   * past it `append` throws ERR_LOG_FULL.
   * @defaultValue `33_554_432` (32 MiB)
   */
  maxQueueBytes?: number;
}

export interface ResolvedJetStreamOptions {
  readonly servers: string[];
  readonly stream: string;
  readonly subject: string;
  readonly replicas: 1 | 3 | 5;
  readonly leaseMs: number;
  readonly timeoutMs: number;
  readonly maxQueueBytes: number;
}

/** The longest subject taken: ASCII only (checked above), so characters are bytes. */
const MAX_SUBJECT_BYTES = 2048;

const KNOWN = new Set(['servers', 'stream', 'subject', 'replicas', 'leaseMs', 'timeoutMs', 'maxQueueBytes']);

export function resolveJetStreamOptions(options: unknown): ResolvedJetStreamOptions {
  if (typeof options !== 'object' || options === null) throw LogError.invalidOption('options', `jetstream() takes an options object, got ${describe(options)}`);
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw LogError.invalidOption(k, 'unknown option of jetstream()');
  const servers = typeof o.servers === 'string' ? [o.servers] : o.servers;
  if (!Array.isArray(servers) || servers.length === 0 || !servers.every((s) => typeof s === 'string' && s.length > 0)) {
    throw LogError.invalidOption('servers', `expected a server URL or a non-empty array of them, got ${describe(o.servers)}`);
  }
  for (const s of servers as string[]) {
    const why = serverProblem(s);
    if (why !== null) throw LogError.invalidOption('servers', `${describe(s)}: ${why}`);
  }
  if (typeof o.stream !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(o.stream)) {
    throw LogError.invalidOption('stream', `expected 1 to 64 letters, digits, '_' or '-', got ${describe(o.stream)}`);
  }
  const subject = o.subject === undefined ? `rl.${o.stream}` : o.subject;
  if (typeof subject !== 'string' || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(subject)) {
    throw LogError.invalidOption('subject', `expected a literal subject (dot-separated tokens, no wildcards), got ${describe(subject)}`);
  }
  // The server refuses a protocol line past max_control_line (4,096 bytes by default), and the lines
  // that publish and deliver a record carry the subject beside a reply subject and sizes.
  if (subject.length > MAX_SUBJECT_BYTES) {
    throw LogError.invalidOption('subject', `${subject.length} bytes, past the ${MAX_SUBJECT_BYTES} a subject takes here (a nats-server refuses protocol lines past 4,096 bytes by default)`);
  }
  const replicas = o.replicas === undefined ? 1 : o.replicas;
  if (replicas !== 1 && replicas !== 3 && replicas !== 5) throw LogError.invalidOption('replicas', `expected 1, 3 or 5, got ${describe(replicas)}`);
  const leaseMs = o.leaseMs === undefined ? 10_000 : requireInt('leaseMs', o.leaseMs, 1_000, 600_000);
  const timeoutMs = o.timeoutMs === undefined ? 5_000 : requireInt('timeoutMs', o.timeoutMs, 100, 600_000);
  const maxQueueBytes = o.maxQueueBytes === undefined ? 32 * 1024 * 1024 : requireInt('maxQueueBytes', o.maxQueueBytes, 64 * 1024, 1024 * 1024 * 1024);
  return { servers: servers as string[], stream: o.stream, subject, replicas, leaseMs, timeoutMs, maxQueueBytes };
}

/**
 * Why the Node.js NATS client cannot connect to `server`, or null. Its parser (hostPort in
 * @nats-io/nats-core) is followed step by step: an optional scheme is dropped, the rest read as host,
 * host:port or an IPv6 address, the port (4222 when absent) put on a URL; a string the URL parser
 * refuses (a space, a NUL, no host, a port past 65535, several servers in one string) fails every
 * connect with "Invalid URL". Port 0 reaches no server, and the Node.js client refuses WebSocket URLs.
 */
function serverProblem(server: string): string | null {
  if (/^wss?:\/\//i.test(server)) return 'a WebSocket URL, which the Node.js client does not take (use nats://host:port)';
  let u = server.trim().replace(/^(.*:\/\/)(.*)/gm, '$2');
  if (u.includes(',')) return 'several servers in one string: give them as an array';
  const mapped = u.toUpperCase().indexOf('::FFFF:');
  if (mapped !== -1 && u.includes('.')) u = u.substring(mapped + 7).replace('[', '').replace(']', '');
  const v6 = u.includes('[') || u.includes('::') || (!u.includes('.') && u.split(':').length > 2);
  if (v6 && !u.includes('[')) u = `[${u}]`;
  const m = v6 ? /(]:)(\d+)/.exec(u) : /(:)(\d+)/.exec(u);
  const port = m === null ? 4222 : Number.parseInt(m[2]!, 10);
  if (port < 1 || port > 65_535) return `port ${port} is out of range (1 to 65535)`;
  try {
    new URL(`${port === 80 ? 'https' : 'http'}://${u}`);
  } catch {
    return 'not a server the NATS client can parse (host, host:port, nats://host:port, or an IPv6 address)';
  }
  return null;
}
