/**
 * The pull behind a JetStream consumer's reader (reader.ts): an ordered consumer (an ephemeral
 * consumer, recreated by the client at the right sequence after a gap in delivery) created at the
 * next offset not yet delivered, its records pushed into the reader's buffer in offset order as they
 * arrive (nats.js's callback form of consume: no async iterator and no promise per record). Once the
 * buffer holds BUFFER_RECORDS, the pull pauses: it stops that consumer and deletes it, since the
 * callback form cannot hold records back; when the reader has run dry, a new one starts at the next
 * offset. Each consumer delivers through a callback of its own generation: a record of any consumer
 * but the current one is dropped. nats.js can make a stopped ordered consumer again (a reset that
 * was under way when it was stopped), under a new name: such a consumer is deleted at the next
 * pause and at close(), as is each name nats.js tried before (a reset whose creation failed may
 * have made one). A check of the consumer under way (nats.js's resetPending(), after missed
 * heartbeats) would start a reset when its "consumer not found" comes after the pull's delete (and
 * after close() looked): a stopped consumer's reset() is a no-op.
 *
 * It rides out a transient outage (ride.ts). The server sends a heartbeat while the pull waits idle;
 * a watchdog sees when neither a record nor a heartbeat came for STALL_HEARTBEATS heartbeats (the
 * server died, the consumer's node was lost, the connection is down), or when records the stream
 * reported do not arrive for as long: it stops that pull and creates a new one at the next offset
 * not delivered, so nothing is skipped, and a record delivered again is dropped by its offset, so
 * nothing is handed out twice. Each such restart counts as a failure: when no record arrives (nor,
 * with none owed, a heartbeat) for 2 x timeoutMs since the first, the reader fails with ERR_IO; past
 * that bound while no call waits for records (between calls, a handler running), the pull ends
 * without failing the reader, and the next fill or wait starts it again with a window of its own; a
 * call that began to wait during the outage has its 2 x timeoutMs from then (not what was left).
 * After a failure, a try at making the consumer waits timeoutMs / 2 at most (several tries fit the bound).
 * Errors that cannot pass fail it at once. stop() deletes the pull's consumer on the server, also one
 * whose creation was under way, and close() waits (1 s at most) for those requests to go out
 * before the connection closes: the server would otherwise keep it for its inactivity threshold.
 *
 * Offsets are stream sequences - 1. A delivered sequence past the one expected means records were
 * removed from the stream (a purge, the stream's own limits): the reader hands out what came before,
 * then throws ERR_POSITION_EXPIRED naming the removed range. Messages deleted at the stream's end
 * (`nats stream rmm` of the newest) leave records owed that never come: when the server says no
 * message follows the one delivered (its pending count is 0) while records are owed, or when the pull
 * stalls on owed records while heartbeats still come, the pull asks for the stream's first stored
 * message at or past the offset expected (deleted-range.ts), and when there is none or it is past
 * that offset, throws ERR_POSITION_EXPIRED naming the deleted range. Records are owed below the end
 * a fill read and, in a blocking wait, below the end the consumer's view of the stream knows (reader.ts).
 * Each consumer the pull makes is checked to read the stream the consumer opened on (one deleted and
 * created again under the name starts its offsets over: ERR_POSITION_EXPIRED); a consumer nats.js
 * made again on its own (its record, or its "ordered_consumer_recreated" status) ends that one, and
 * the pull makes a checked one at the next offset.
 */
import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { ErrorCode, LogError } from '../errors.js';
import type { Message } from '../types.js';
import { deletedAt, deletedError } from './deleted-range.js';
import { nats } from './nats.js';
import { getOrdered } from './ordered-get.js';
import { halt, infoNameOf, StoppedConsumers } from './pull-names.js';
import { toMessage } from './record-codec.js';
import { type Outage, Ride } from './ride.js';
import type { Session } from './session.js';
import { transientError } from './transient.js';

/** Records buffered ahead of the consumer. */
export const BUFFER_RECORDS = 4096;
/** Messages a pull asks for at once. */
const PULL_BATCH = 1024;
/** Heartbeats missed (nothing at all came) before a pull counts as stalled. */
const STALL_HEARTBEATS = 3;

/** Why one consumer of the pull ended: stop() or a gap (for good), a full buffer, a stall, or nats.js made it again. */
type PullEnd = 'ended' | 'paused' | 'stalled' | 'remade';

/** Where the pull delivers. */
export interface PullTarget {
  /** Records delivered and not handed out. */
  readonly buffered: number;
  push(m: Message): void;
  /** The pull failed: the reader throws `e` once the records before it are handed out. */
  fail(e: LogError): void;
}

export class Pull {
  private messages: ConsumerMessages | null = null;
  /** The ordered consumer of the current pull: deleted when a new one replaces it. */
  private consumer: Consumer | null = null;
  private running = false;
  /** Resumes a pull paused on a full buffer. */
  private resume: (() => void) | null = null;
  /** The offset of the next record to deliver. */
  private expected: number;
  /** The stream reported records below this offset: until they arrive, they are owed. */
  owedEnd = 0;
  private lastRecordMs = 0; // performance.now(), as lastLifeMs: elapsed time, which a wall clock step does not move
  private lastLifeMs = 0;
  private requestsSentAt: number | null = null; // when once()'s requests were sent, until it consumes (ride.ts: a lost try's last one)
  /** Records delivered: the watchdog notes their arrival at its tick (no clock read per record). */
  private arrivals = 0;
  private arrivalsSeen = 0;
  /** Set when this side ends the current consumer; its records still arriving are dropped. */
  private ending: PullEnd | null = null;
  /** The current consumer's generation: records of an earlier one are dropped. */
  private generation = 0;
  /** A start() that came while a pause was being made, before run() waited for it. */
  private resumeAsked = false;
  /** The last stall was one of records owed while heartbeats came (the server is there). */
  private stalledOwing = false;
  private watchdog: NodeJS.Timeout | null = null;
  private readonly ride: Ride;
  private readonly heartbeatMs: number;
  /** The client the pull's consumers are made with after a failure (a try waits timeoutMs / 2 at most). */
  private readonly tryJs: JetStreamClient;
  /** The consumers stopped, the get in flight and the deletes sent (pull-names.ts). */
  private readonly stoppedConsumers: StoppedConsumers;
  /** The name of the consumer the pull made and checked: records of another (nats.js made it again) are not taken. */
  private consumerName = '';
  /** When the pull last saw no call waiting (performance.now()): a call's bound runs from then. */
  private idleAt = 0;

  constructor(
    private readonly session: Session,
    private readonly target: PullTarget,
    startOffset: number,
    private readonly onChange: () => void,
    /** Each record delivered, with the count of messages the server says follow it (lag-view.ts). */
    private readonly onRecord: (m: Message, pending: number) => void = () => undefined,
    /** Whether a call waits for records now: only then does an outage past the bound fail the reader. */
    private readonly needed: () => boolean = () => true,
    outage?: Outage, // the consumer's (ride.ts): a pull that gives up marks it for the commits
  ) {
    this.expected = startOffset;
    this.ride = new Ride(session.options.timeoutMs, 'consumer', undefined, outage && { outage, marks: false });
    this.stoppedConsumers = new StoppedConsumers(session);
    this.heartbeatMs = Math.min(5_000, Math.max(500, Math.floor(session.options.timeoutMs / 4)));
    // A request sent while the cluster elects a leader is lost, not answered late: a try that waits
    // half of timeoutMs finds the cluster again sooner, within the same bound. (A try that timed out
    // may still have made its consumer: once() deletes it by its name.)
    this.tryJs = nats().jetstream.jetstream(session.nc, { timeout: Math.min(session.options.timeoutMs, Math.max(500, Math.floor(session.options.timeoutMs / 2))) });
  }

  /** The offset after the last record delivered. */
  get deliveredEnd(): number {
    return this.expected;
  }

  /** Starts the pull on the first wait or fill, or resumes it when it paused on a full buffer. */
  start(): void {
    if (this.resume !== null) {
      const r = this.resume;
      this.resume = null;
      this.lastLifeMs = this.lastRecordMs = performance.now(); // the watchdog starts over: the pull was paused
      r();
    } else if (this.ending === 'paused') {
      this.resumeAsked = true; // run() has not begun to wait yet: it goes on at once
    }
    if (this.running || this.ride.stopped) return;
    this.running = true;
    this.watchdog = setInterval(this.watch, Math.max(100, Math.floor(this.heartbeatMs / 2)));
    this.watchdog.unref();
    void this.run().catch((e: unknown) => {
      this.target.fail(e instanceof LogError ? e : new LogError(ErrorCode.IO, `reading stream ${this.session.options.stream} failed: ${(e as Error).message}`, {}, { cause: e }));
    }).finally(() => {
      this.running = false;
      if (this.watchdog !== null) clearInterval(this.watchdog);
      this.watchdog = null;
      this.onChange();
    });
  }

  /** close() or destroy(): the pull and any retry end now; the server's consumer is deleted. */
  stop(): void {
    this.ride.stop();
    this.resume?.();
    this.drop();
  }

  /** After stop(): waits (at most 1 s) for a get in flight and the deletes sent to reach the server before the connection closes. */
  quiesce(): Promise<void> {
    return this.stoppedConsumers.quiesce();
  }

  /** Stops the current pull and deletes its consumer (the server would keep it for its inactivity threshold, minutes). */
  private drop(): void {
    if (this.messages !== null) halt(this.messages);
    this.messages = null;
    this.stoppedConsumers.drop(this.consumer);
    this.consumer = null;
  }

  /** Pulls, and pulls again after a pause, a transient failure or a stall (see the module comment). */
  private async run(): Promise<void> {
    for (;;) {
      try {
        const end = await this.once();
        if (end === 'ended' || this.ride.stopped) {
          this.drop();
          return;
        }
        if (end === 'paused') {
          this.drop();
          if (!this.resumeAsked) await new Promise<void>((resolve) => { this.resume = resolve; });
          this.resumeAsked = false;
          if (this.ride.stopped) return;
          continue;
        }
        if (end === 'remade') throw new Error('nats.js made the pull\'s consumer again (a gap in delivery, missed heartbeats, the stream deleted): no record arrived from a consumer the pull checked; a new one is made');
        const deleted = this.stalledOwing ? await this.deletedAt(this.owedEnd) : null;
        if (deleted !== null) {
          this.target.fail(deleted);
          this.drop();
          return;
        }
        throw new Error(`the pull stalled: no record arrived for ${STALL_HEARTBEATS * this.heartbeatMs} ms while records were owed, or no heartbeat came either`);
      } catch (e) {
        this.drop(); // a consumer made after stop() too
        if (this.ride.stopped) return;
        if (!this.needed()) this.idleAt = performance.now();
        try {
          await this.ride.failed(e, `reading stream ${this.session.options.stream} from offset ${this.expected}`, this.requestsSentAt ?? undefined);
        } catch (bound) {
          // Past the bound while no call reads (between calls, a handler running): the pull ends
          // quietly, and the next fill or wait starts it again with a window of its own (start()).
          // A call that began to wait since the first failure has its bound from then: it goes on.
          if (this.ride.stopped || !transientError(e)) throw bound;
          if (this.needed() && !this.ride.windowFrom(this.idleAt)) {
            this.ride.markGaveUp(); // the waiting call fails: its last commit counts from this outage (ride.ts)
            throw bound;
          }
          if (this.needed()) continue;
          this.ride.resetWindow(); // no call's bound is spent: the next one counts from its own first failure
          return;
        }
      }
    }
  }

  /** One ordered consumer from the next offset, until it ends: see PullEnd. */
  private async once(): Promise<PullEnd> {
    const { subject } = this.session.options;
    // The first try waits timeoutMs; once one failed (a stall, a timeout, a lost connection), the
    // cluster may be electing: then a try waits half of that (tryJs).
    const client = this.ride.failing ? this.tryJs : this.session.js;
    this.requestsSentAt = performance.now();
    const { getting, deleteLost } = getOrdered(this.session, client, {
      deliver_policy: nats().jetstream.DeliverPolicy.StartSequence, opt_start_seq: this.expected + 1, filter_subjects: subject,
    });
    // The get creates the consumer on the server: one that comes after stop() is deleted at once, as is
    // one a failed get may have made (its answer came after the request timed out).
    this.stoppedConsumers.track(getting.then((made) => (this.ride.stopped ? made.delete() : undefined), deleteLost));
    const c = await this.ride.race(getting);
    this.consumer = c;
    await this.ride.race(this.session.checkStream(this.expected)); // made on the stream the consumer opened on, not one created again
    this.consumerName = infoNameOf(c);
    this.ending = null;
    this.resumeAsked = false;
    const generation = ++this.generation;
    this.lastLifeMs = this.lastRecordMs = performance.now();
    const callback = (m: JsMsg): void => this.deliver(m, generation);
    const messages = await this.ride.race(c.consume({ max_messages: PULL_BATCH, idle_heartbeat: this.heartbeatMs, callback }));
    [this.messages, this.requestsSentAt] = [messages, null]; // answered: a stall from here on is no lost request
    if (this.ending !== null || this.ride.stopped) halt(messages); // ended by the first records, or by stop(), meanwhile
    this.heartbeats(messages).catch(() => undefined); // a status stream that ends badly: the watchdog sees the silence
    const closed = await messages.closed();
    if (this.ride.stopped) return 'ended';
    if (this.ending !== null) return this.ending;
    // Ended by the client: with an error, run() makes a new consumer if the error is transient (ride.ts);
    // without one (its connection closed), the pull fails.
    throw closed instanceof Error ? closed : new Error('the consumer of the pull ended');
  }

  /** A message of the consumer of `generation` (nats.js calls this at once, on the connection's read). */
  private deliver(m: JsMsg, generation: number): void {
    // A consumer being stopped, or an earlier one: the next one starts at `expected`.
    if (generation !== this.generation || this.ending !== null || this.ride.stopped) return;
    // nats.js made the consumer again on its own, unchecked (maybe on a stream created again): one is made that is checked.
    if (m.info.consumer !== this.consumerName) return this.end('remade');
    const msg = toMessage(m);
    if (msg.offset < this.expected) return; // delivered again by a pull made again
    if (msg.offset > this.expected) {
      const { stream } = this.session.options;
      this.target.fail(deletedError(stream, this.expected, msg.offset, 'a purge, the stream\'s limits, or messages deleted from it'));
      this.end('ended');
      return;
    }
    this.expected++;
    this.arrivals++;
    if (this.ride.failing) this.sawLife(true); // progress ends the outage's count at once
    this.target.push(msg);
    this.onRecord(msg, m.info.pending);
    if (m.info.pending === 0 && this.expected < this.owedEnd) this.checkDeleted(generation);
    this.onChange();
    if (this.target.buffered >= BUFFER_RECORDS) this.end('paused');
  }

  /** Messages deleted from `expected` on: see deleted-range.ts. */
  deletedAt(end: number): Promise<LogError | null> {
    return deletedAt(this.session, this.expected, end);
  }

  /** No message follows the one delivered while records are still owed: they were deleted (checked). */
  private checkDeleted(generation: number): void {
    const expected = this.expected;
    void this.deletedAt(this.owedEnd).then((e) => {
      if (e === null || generation !== this.generation || this.expected !== expected || this.ending !== null || this.ride.stopped) return;
      this.target.fail(e);
      this.end('ended');
    });
  }

  /** Ends the current consumer for `why` (once). */
  private end(why: PullEnd): void {
    if (this.ending !== null) return;
    this.ending = why;
    if (this.messages !== null) halt(this.messages);
  }

  /**
   * A heartbeat shows the pull alive; with nothing owed, that is progress. A consumer nats.js made
   * again on its own (after missed heartbeats, "consumer not found" or a gap) is unchecked, and may
   * read a stream deleted and created again under the name, whose heartbeats would then count as
   * life while none of its records comes: it ends the pull's consumer as a record of it would.
   */
  private async heartbeats(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      if (s.type === 'heartbeat') this.sawLife(false);
      else if (s.type === 'ordered_consumer_recreated' && messages === this.messages) this.end('remade');
    }
  }

  /** Something came: a record (progress), or a heartbeat (progress when no record is owed). */
  private sawLife(record: boolean): void {
    const now = performance.now();
    this.lastLifeMs = now;
    if (record || this.expected >= this.owedEnd) {
      this.lastRecordMs = now;
      this.ride.progress();
    }
  }

  /** Ends a pull that stalled (see the module comment); run() makes it again. */
  private readonly watch = (): void => {
    if (!this.needed()) this.idleAt = performance.now();
    if (this.arrivals !== this.arrivalsSeen) {
      this.arrivalsSeen = this.arrivals;
      this.sawLife(true);
    }
    if (this.resume !== null || this.messages === null || this.ending !== null) return;
    const limit = STALL_HEARTBEATS * this.heartbeatMs;
    const now = performance.now();
    const owed = this.expected < this.owedEnd && now - this.lastRecordMs > limit;
    const silent = now - this.lastLifeMs > limit;
    if (silent || owed) {
      this.stalledOwing = !silent;
      this.end('stalled');
    }
  };
}
