/**
 * The JetStream backend: `import { jetstream } from 'reactive-log/jetstream'`. A log is one stream of
 * one subject on a NATS server (or cluster); the same Producer and Consumer run on it. Needs the
 * optional peer dependencies `@nats-io/transport-node`, `@nats-io/jetstream` and `@nats-io/kv` (3.x).
 * What it supports, and where its guarantees differ from a local log: docs/jetstream.md.
 *
 * @packageDocumentation
 */
import type { StreamInfo } from '@nats-io/jetstream';
import type { BackendConsumerParts, BackendProducer, BackendProducerOptions, LogBackend } from '../backend/backend-types.js';
import type { StartPlan, StartRequest } from '../consumer/start-plan.js';
import { ErrorCode, LogError } from '../errors.js';
import type { Whence } from '../types.js';
import { checkCursorName, KvCursor } from './cursor.js';
import { pastDeleted } from './deleted-range.js';
import { inspectStream } from './inspect.js';
import { resolveJetStreamOptions, type JetStreamBackendOptions, type ResolvedJetStreamOptions } from './options.js';
import { JetStreamProducer } from './producer.js';
import { checkProducerOptions, producerChecks } from './producer-options.js';
import { JsReader, JsSource } from './reader.js';
import { StreamLag } from './lag-view.js';
import { Outage, Ride } from './ride.js';
import { asLogError, boundsOf, sameStream, Session, type BeforeCreate } from './session.js';
import { offsetAtTime } from './tail-scan.js';

export type { JetStreamBackendOptions } from './options.js';

/**
 * A backend that keeps the log in a NATS JetStream stream. Pass it as `backend` to `Producer.open`
 * and `Consumer.open` instead of `logDir`. Nothing connects until a handle opens; each handle has its
 * own connection.
 *
 * @param options - The server(s) and the stream; see {@link JetStreamBackendOptions}.
 * @returns The backend.
 * @throws LogError `ERR_INVALID_OPTION` (from `reactive-log`) for a bad or unknown option.
 *
 * @example
 * ```ts
 * import { Producer, Consumer, ConsumerStyle } from 'reactive-log';
 * import { jetstream } from 'reactive-log/jetstream';
 *
 * const backend = jetstream({ servers: 'nats://127.0.0.1:4222', stream: 'orders' });
 * const producer = await Producer.open({ backend });
 * producer.append('hello');
 * await producer.flush(); // acknowledged by the stream
 * const consumer = await Consumer.open({ backend, style: ConsumerStyle.clientTx('billing') });
 * await consumer.nonblockingProcess(null, (msg) => 'commit');
 * ```
 */
export function jetstream(options: JetStreamBackendOptions): LogBackend {
  const o = resolveJetStreamOptions(options);
  return {
    engine: 'jetstream',
    logId: `jetstream:${o.stream}`,
    openProducer: (popts) => openProducer(o, popts),
    openConsumer: (copts) => openConsumer(o, copts),
    inspect: () => inspectStream(o),
  };
}

/**
 * Connects and finds (or creates) the stream, trying again while that fails transiently (a request
 * timed out, no leader, no responders, a connection cut during the handshake: ride.ts) until nothing has succeeded for 2 x timeoutMs since
 * the first failure, as the open handles do. Any other error (a refused connection, a stream of
 * another shape) ends it at once. The open's later steps (its lease, its cursor) ride on the same
 * `ride`, so the bound counts from the open's first failure, whichever step it was in. `check` runs
 * once connected, before the stream is created (Session.open).
 */
async function openSession(o: ResolvedJetStreamOptions, what: string, ride: Ride, signal?: AbortSignal, check?: BeforeCreate): Promise<Session> {
  for (;;) {
    const sentAt = performance.now(); // a try sent in the bound's last timeoutMs gets one more (ride.ts)
    try {
      return await Session.open(o, true, check);
    } catch (e) {
      if (signal?.aborted === true) throw e;
      await ride.failed(e, what, sentAt);
    }
  }
}

async function openProducer(o: ResolvedJetStreamOptions, options: BackendProducerOptions): Promise<BackendProducer> {
  const checked = checkProducerOptions(options); // before connecting: names, types and ranges refused create no stream
  const what = `opening the producer of stream ${o.stream}`;
  const ride = new Ride(o.timeoutMs, what);
  // Once connected, what depends on the server is checked before the stream is created or changed.
  const session = await openSession(o, what, ride, undefined, producerChecks(checked));
  try {
    return await JetStreamProducer.open(session, checked, ride);
  } catch (e) {
    await session.close();
    throw asLogError(e, `opening the producer of stream ${o.stream}`);
  }
}

async function openConsumer(o: ResolvedJetStreamOptions, opts: StartRequest): Promise<BackendConsumerParts> {
  const { start } = opts;
  if (opts.signal?.aborted === true) throw LogError.aborted('Consumer.open', opts.signal);
  if (start.kind === 'cursor') checkCursorName(start.cursorName);
  const what = `opening a consumer of stream ${o.stream}`;
  const ride = new Ride(o.timeoutMs, what, opts.signal);
  const session = await openSession(o, what, ride, opts.signal, consumerChecks(start));
  const outage = new Outage(); // a read that gave up: the commits count their bound from its outage (ride.ts)
  let cursor: KvCursor | null = null;
  let earlier = false;
  try {
    const toOldest = opts.onPositionExpired === 'oldest';
    // The reads after the lookup ride out a request that goes unanswered, as the lookup did.
    const streamInfo = (): Promise<StreamInfo> => ride.run(`reading the state of stream ${o.stream}`, () => session.streamInfo());
    let info = await streamInfo();
    session.streamCreated = info.created; // the pull reads this stream only (pull.ts)
    let { state } = info;
    let bounds = boundsOf(state);
    let at: number;
    if (start.kind === 'whence') {
      at = await whenceOffset(session, start.whence, bounds, toOldest, ride);
    } else {
      for (let recreations = 0; ; recreations++) {
        const taken = await KvCursor.open(session, start.cursorName, bounds.startOffset, info.created, start.commitEveryRecords, start.commitEveryMs, ride, outage);
        cursor = taken;
        // The bounds again, now that the cursor is this consumer's: read before its lease was taken,
        // they may predate records the cursor's last owner read and committed before it let go.
        const again = await streamInfo();
        ({ state } = again);
        bounds = boundsOf(state);
        if (sameStream(again.created, info.created)) break;
        // The stream was deleted and created again since the first read: the cursor is let go and
        // taken again on the new stream, judged as by an open that began after the recreation.
        cursor = null;
        await taken.drop();
        info = again;
        session.streamCreated = info.created;
        if (recreations >= MAX_OPEN_RECREATIONS) throw new LogError(ErrorCode.IO, `stream ${o.stream} was deleted and created again each of the ${recreations + 1} times this open read it`);
      }
      at = cursor.nextOffset;
      // The cursor's offset counts records of an earlier stream of the name (deleted, then created
      // again: the cursors bucket outlived it): none of this stream's records were handed out.
      earlier = cursor.entryStream !== null && !sameStream(cursor.entryStream, info.created);
      if (earlier && !cursor.created && !toOldest) throw earlierStream(start.cursorName, o.stream, at, bounds.startOffset, cursor.entryStream!, info.created);
      if (earlier) at = bounds.startOffset;
      // A cursor that never committed stands for "from the oldest record", as locally.
      if ((cursor.created || toOldest) && at < bounds.startOffset) at = bounds.startOffset;
      if (at < bounds.startOffset) throw LogError.expired(at, bounds.startOffset, `offset ${at}, where cursor ${start.cursorName} points,`);
      if (at > bounds.endOffset) {
        throw new LogError(ErrorCode.LOG_CORRUPT, `cursor ${start.cursorName} points at offset ${at}, past the end of stream ${o.stream} (${bounds.endOffset})`, { offset: at });
      }
    }
    // A record deleted from the stream's middle (or newest end) at the start: 'oldest' goes on at the next stored one.
    if (toOldest && state.num_deleted > 0 && at > bounds.startOffset) at = await pastDeleted(session, at, bounds.endOffset, ride);
    if ((opts.signal as AbortSignal | undefined)?.aborted === true) throw LogError.aborted('Consumer.open', opts.signal!);
    // The cursor moves only now, when nothing after the move can refuse the open: a refused open
    // leaves the entry as it was (a never-committed one still counts as never committed).
    if (cursor !== null && (at !== cursor.nextOffset || (earlier && !cursor.created))) {
      // Moved to this stream (the commit names it), or past records removed from the stream.
      await cursor.advance(at, earlier ? cursor.currentState : undefined);
      await cursor.sync();
    }
    const reader = new JsReader(at);
    const lagView = new StreamLag(session, reader, state);
    await lagView.refresh(false); // the timestamp at the position: lag() is exact from the open on
    return { reader, source: new JsSource(session, reader, true, lagView, outage), cursor };
  } catch (e) {
    await cursor?.abandon().catch(() => undefined); // an entry this open created is deleted again
    await session.close();
    throw asLogError(e, `opening a consumer of stream ${o.stream}`);
  }
}

/** How many times an open takes its cursor again after the stream was created again under it. */
const MAX_OPEN_RECREATIONS = 3;

/** ERR_POSITION_EXPIRED for a cursor committed on an earlier stream of the name. */
function earlierStream(cursor: string, stream: string, at: number, startOffset: number, then: string, now: string): LogError {
  return new LogError(ErrorCode.POSITION_EXPIRED,
    `cursor ${cursor} points at offset ${at} of an earlier stream ${stream} (created ${then}), deleted since: the stream was created again (${now}) and its offsets start over, so none of its records were handed out to this cursor; open with onPositionExpired 'oldest' to start at its oldest record (offset ${startOffset})`,
    { offset: at, logStartOffset: startOffset });
}

/**
 * The checks of Consumer.open once connected, before a missing stream is created (Session.open): a
 * cursor's lease needs the max age of a leases bucket left from an earlier stream of the name, and a
 * Whence.position must lie within the new stream, which is empty. On an existing stream the open
 * judges both where it takes the lease and reads the bounds, before it creates anything of its own.
 */
function consumerChecks(start: StartPlan): BeforeCreate {
  return async (session, info) => {
    if (info !== null) return;
    if (start.kind === 'cursor') await session.checkLeaseBucket();
    else if (start.whence.kind === 'position') positionWithin(start.whence.offset, { startOffset: 0, endOffset: 0 }, false);
  };
}

/** Where a Whence.position(at) starts within the bounds `b`: ERR_POSITION_EXPIRED below them (the oldest with `toOldest`), ERR_INVALID_OPTION past them. */
function positionWithin(at: number, b: { startOffset: number; endOffset: number }, toOldest: boolean): number {
  if (at < b.startOffset) {
    if (toOldest) return b.startOffset;
    throw LogError.expired(at, b.startOffset);
  }
  if (at > b.endOffset) throw LogError.invalidOption('whence', `Whence.position(${at}) is past the end of the log (${b.endOffset})`);
  return at;
}

async function whenceOffset(session: Session, whence: Whence, b: { startOffset: number; endOffset: number }, toOldest: boolean, ride: Ride): Promise<number> {
  switch (whence.kind) {
    case 'oldest': return b.startOffset;
    case 'latest': return b.endOffset;
    // Its reads ride out a request that goes unanswered, as the open's others do.
    case 'timestamp': return Math.max(b.startOffset, await ride.run(`finding the first record at or after ${whence.ms} ms in stream ${session.options.stream}`, () => offsetAtTime(session, whence.ms, b.endOffset)));
    case 'position': return positionWithin(whence.offset, b, toOldest);
  }
}
