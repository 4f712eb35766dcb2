/**
 * The options of `Producer.open` on JetStream, checked in two steps: what needs no server before the
 * backend connects (names, types and ranges), then what depends on the server (its version, its
 * largest payload, the stream's duplicate window, the leases bucket's max age) once connected, before
 * the stream is created or changed. Bad input of either kind creates nothing.
 */
import type { BackendProducerOptions } from '../backend/backend-types.js';
import { LogError } from '../errors.js';
import type { DedupWindowOption } from '../producer/dedup-window.js';
import { validDedupWindow, validSyncPolicy, type SyncPolicy } from '../producer/options.js';
import { requireInt } from '../validate.js';
import { limitsAfter, refuseBytesOnDiscardNew, resolveStreamLimits, type StreamLimits } from './retention.js';
import { versionBelow, type BeforeCreate, type Session } from './session.js';

const KNOWN = new Set(['backend', 'syncPolicy', 'appendTimeoutMs', 'maxRecordBytes', 'dedupWindow', 'maxTotalBytes', 'maxFileAge', 'blockingMinimumRetention']);
const LOCAL_ONLY = new Set(['logDir', 'fileRollSize', 'ringBytes', 'maxBatchBytes', 'indexIntervalBytes', 'acceptConnections']);
/** The sync-policy warnings given in this process (once each). */
const syncWarnings = new Set<string>();
let dedupWarned = false;

/** The producer's options, checked as far as they can be without the server. */
export interface CheckedProducerOptions {
  readonly syncPolicy: SyncPolicy;
  readonly appendTimeoutMs: number;
  /** As given; undefined for the server's largest payload. */
  readonly maxRecordBytes: number | undefined;
  readonly dedupWindow: DedupWindowOption | null;
  readonly limits: StreamLimits;
}

/** Checks what needs no server: names, types and ranges (ERR_INVALID_OPTION). */
export function checkProducerOptions(options: BackendProducerOptions): CheckedProducerOptions {
  const o = options as unknown as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (LOCAL_ONLY.has(k)) throw LogError.invalidOption(k, 'is an option of a local log directory; the JetStream backend has no such setting');
    if (!KNOWN.has(k)) throw LogError.invalidOption(k, 'unknown option');
  }
  const limits = resolveStreamLimits(o);
  const syncPolicy = validSyncPolicy(o.syncPolicy); // as a local producer checks it
  const appendTimeoutMs = o.appendTimeoutMs === undefined ? 10_000 : requireInt('appendTimeoutMs', o.appendTimeoutMs, 0, 3_600_000);
  const maxRecordBytes = o.maxRecordBytes === undefined ? undefined : requireInt('maxRecordBytes', o.maxRecordBytes, 1, Number.MAX_SAFE_INTEGER);
  return { syncPolicy, appendTimeoutMs, maxRecordBytes, dedupWindow: validDedupWindow(o.dedupWindow), limits };
}

/** The server's largest payload: a record's bound. */
export function serverMaxPayload(session: Session): number {
  return session.nc.info?.max_payload ?? 1024 * 1024;
}

/** The largest NATS message (payload and headers) a record's publish may be, and what sets it. */
export interface MessageLimit {
  readonly bytes: number;
  readonly what: string;
}

/**
 * The server's max_payload, or the stream's max_msg_size when it has a smaller one (a stream made
 * beforehand, `nats stream add --max-msg-size`): the server refuses a message past either, headers
 * included, and such a refusal would stop the producer, so append refuses the record instead.
 */
export function messageLimit(session: Session, streamMaxMsgSize: number): MessageLimit {
  const serverMax = serverMaxPayload(session);
  if (streamMaxMsgSize > 0 && streamMaxMsgSize < serverMax) return { bytes: streamMaxMsgSize, what: `the max_msg_size of stream ${session.options.stream}` };
  return { bytes: serverMax, what: "the server's max_payload" };
}

/**
 * What depends on the server. `maxRecordBytes` is at most its max_payload. A sync policy
 * (docs/jetstream.md): `always()` asks that an acknowledged record survive the loss of the machine;
 * a single replica on a server before 2.10 acknowledges before any fsync, so that cannot be had:
 * ERR_INVALID_OPTION. Elsewhere the server's own sync setting decides when it fsyncs: a warning
 * (RL_JETSTREAM_SYNC) says so.
 */
export function checkAgainstServer(session: Session, o: CheckedProducerOptions): void {
  const serverMax = serverMaxPayload(session);
  if (o.maxRecordBytes !== undefined && o.maxRecordBytes > serverMax) {
    throw LogError.invalidOption('maxRecordBytes', `maxRecordBytes takes 1 to the server's max_payload (${serverMax}), got ${o.maxRecordBytes}`);
  }
  const policy = o.syncPolicy;
  const old = versionBelow(session.serverVersion, [2, 10]);
  if (policy.kind === 'always' && old && session.options.replicas === 1) {
    throw LogError.invalidOption('syncPolicy',
      `SyncPolicy.always() asks for an fsync before the acknowledgement; nats-server ${session.serverVersion.join('.')} with one replica acknowledges before any fsync. Use replicas: 3, a server of 2.10 or later with sync_interval: always, or another policy (docs/jetstream.md)`);
  }
  const said = `${policy.kind}/${session.options.replicas}`;
  if (policy.kind !== 'never' && !syncWarnings.has(said)) {
    syncWarnings.add(said);
    process.emitWarning(`on JetStream, SyncPolicy.${policy.kind}() means: flush() resolves once the stream acknowledged the records (stored by the leader${session.options.replicas > 1 ? ' and a majority of replicas' : ''}); when the server fsyncs is its own sync_interval setting (docs/jetstream.md)`,
      { code: 'RL_JETSTREAM_SYNC' });
  }
}

/**
 * The checks of Producer.open once connected, before the stream is created or changed (Session.open):
 * checkAgainstServer, a maxTotalBytes on a stream that discards new messages (retention.ts), the dedup window against the duplicate window the stream will have (for a
 * stream not created yet, the server's default shortened by maxFileAge), and, for a stream not created
 * yet, the max age of a leases bucket left from an earlier stream of the name. The producer checks the
 * dedup window again under its lease (the stream may change meanwhile).
 */
export function producerChecks(o: CheckedProducerOptions): BeforeCreate {
  return async (session, info) => {
    checkAgainstServer(session, o);
    if (info !== null) refuseBytesOnDiscardNew(session.options.stream, info.config, o.limits);
    if (o.dedupWindow !== null) await checkDedupWindow(session, o.dedupWindow, limitsAfter(info?.config ?? null, o.limits).dupWindow);
    if (info === null) await session.checkLeaseBucket();
  };
}

/**
 * A dedup key is also the message's Nats-Msg-Id, which the stream remembers for its
 * duplicate_window: a key the producer's window forgot and the stream still remembers would be
 * dropped by the server after append returned an offset for it. So a `{ ms }` window shorter than
 * the stream's is refused, and a `{ records }` window gets a warning (RL_JETSTREAM_DEDUP).
 */
export async function checkDedupWindow(session: Session, window: DedupWindowOption, duplicateWindowNs: number): Promise<void> {
  const streamMs = Math.ceil(duplicateWindowNs / 1e6);
  if ('ms' in window && window.ms < streamMs) {
    throw LogError.invalidOption('dedupWindow', `{ ms: ${window.ms} } is shorter than the duplicate_window of stream ${session.options.stream} (${streamMs} ms): use at least { ms: ${streamMs} }`);
  }
  if ('records' in window && !dedupWarned) {
    dedupWarned = true;
    process.emitWarning(`dedupWindow { records: ${window.records} } on JetStream: a dedup key is also the message's Nats-Msg-Id, remembered by stream ${session.options.stream} for ${streamMs} ms; a key appended again after the producer's window forgot it and within that time is taken by the stream for a duplicate, and the record is published again without its key: a new record, as locally, that no longer carries the key after a restart. Prefer { ms: ${streamMs} } or more`,
      { code: 'RL_JETSTREAM_DEDUP' });
  }
}

/** A producer call the JetStream backend does not support yet: ERR_INVALID_OPTION naming it. */
export function notYet(what: string): LogError {
  return LogError.invalidOption(what, `the JetStream backend does not support producer.${what}() yet`);
}
