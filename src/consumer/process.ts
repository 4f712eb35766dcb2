/**
 * The processing loop shared by nonblockingProcess and blockingProcess, for every style: the outcome
 * table of api.md, the retry policy (delay, backoff, maxAttempts, dead letters) and state staged with a
 * commit. A record the handler did not complete stays pending and is handed out first next time.
 *
 * close() during a call: the consumer waits for the call to return. The handler call in progress
 * finishes and its outcome is applied (a commit lands and is counted); then the call returns 'end'.
 * A retry delay is cut short, and the record is not completed.
 */
import { checkStateBytes } from '../cursor/cursor-file.js';
import { LogError } from '../errors.js';
import { isBytes, unusable } from '../ring/record-checks.js';
import { describe } from '../validate.js';
import type { Handler, Message, Outcome, ProcessContext, ProcessSummary } from '../types.js';
import type { ResolvedRetry } from './start-plan.js';
import type { DeadLetterSink } from './dead-letter.js';
import { checkOutcome, retryDelayMs } from './handler-policy.js';

/** What the processing loop works on (the consumer's RecordFeed). */
export interface RecordSource {
  /** The real path of the log directory (ctx.logId). */
  readonly logId: string;
  /** The largest state ctx.setState takes, or null: none (ctx.setState is for transactional styles). */
  readonly stateLimit: number | null;
  /** The pending record, else the next visible one, else null; throws when the cursor can commit nothing more (checkCursor). */
  take(): Message | null;
  /** Throws why the cursor store can commit nothing more (its lease taken over while the call runs), if it can't. */
  checkCursor(): void;
  /** Waits for more records (bounded); makes the cursor durable first. */
  wait(signal: AbortSignal | undefined): Promise<void>;
  /**
   * The record is done ('commit' or 'skip'): move past it, with a staged state (undefined: keep). A
   * promise when the commit is asynchronous: awaited before the next record.
   */
  complete(msg: Message, state: Uint8Array | null | undefined): void | Promise<void>;
  /** Async engines: fetches what the log holds now; false when there is nothing more (local: false). */
  fill(signal: AbortSignal | undefined): Promise<boolean> | false;
  /** close() was called: finish the record in hand, then return. */
  isClosed(): boolean;
  /** destroy() released the cursor: no outcome is committed, and nothing is written for one. */
  readonly isReleased: boolean;
  /** Aborts when close() is called (ends a retry delay). */
  readonly closeRequested: AbortSignal;
  /** The state committed with the cursor so far (ctx.state). */
  currentState(): Uint8Array | null;
}

/** A handler's synchronous answers taken in a row before the loop awaits one (a turn of the microtask queue). */
const SYNC_TURN = 64;

/** One processing call with a handler function: its records, outcomes and retries, until `max`, the end, 'break', close() or `signal`. */
export async function runProcess(
  src: RecordSource, max: number | null, handler: Handler, blocking: boolean, signal: AbortSignal | undefined,
  retry: ResolvedRetry, deadLetters: DeadLetterSink,
): Promise<ProcessSummary> {
  const summary: ProcessSummary = { committed: 0, skipped: 0, retried: 0, stoppedBy: 'end' };
  let syncAnswers = 0;
  for (;;) {
    if (max !== null && summary.committed + summary.skipped >= max) return stop(summary, 'limit');
    if (signal?.aborted) return stop(summary, 'abort');
    if (src.isClosed()) return stop(summary, 'end');
    const msg = src.take();
    if (msg === null) {
      if (!blocking) {
        const filled = src.fill(signal);
        if (filled !== false && await filled) continue;
        return stop(summary, 'end');
      }
      await src.wait(signal);
      continue;
    }
    let lastError: unknown = null;
    for (let attempt = 1; ; attempt++) {
      const ctx = new AttemptContext(src, msg, attempt);
      let outcome: Outcome;
      let staged: Uint8Array | null | undefined;
      try {
        const answer = handler(msg, ctx);
        if (typeof answer === 'string') {
          // A synchronous answer is taken as it is, without a turn of the microtask queue per record;
          // every SYNC_TURN-th one still gives other promise reactions a turn. The attempt ended with
          // the answer: its state is taken before that turn, where a setState the handler queued in a
          // microtask would otherwise land on that one record in SYNC_TURN.
          staged = AttemptContext.staged(ctx);
          if (++syncAnswers % SYNC_TURN === 0) await Promise.resolve();
          outcome = answer;
        } else {
          outcome = await answer;
          staged = AttemptContext.staged(ctx);
        }
      } catch (e) {
        if (!retry.retryOnThrow) throw e;
        lastError = e;
        outcome = 'retry';
      }
      outcome = checkOutcome(outcome);
      if (outcome === 'commit' || outcome === 'skip') {
        const committing = src.complete(msg, staged);
        if (committing !== undefined) await committing;
        if (outcome === 'commit') summary.committed++;
        else summary.skipped++;
        break;
      }
      // After close() the call ends as close() ends it ('end', as a pool's call does); the record stays either way.
      if (outcome === 'break') return stop(summary, src.isClosed() ? 'end' : 'break');
      summary.retried++;
      if (retry.maxAttempts !== null && attempt >= retry.maxAttempts) {
        // After destroy() the record is not completed: it comes again to the next owner, which
        // writes its dead letter then.
        if (src.isReleased) return stop(summary, 'end');
        src.checkCursor(); // another owner's record now: its dead letter is theirs to write
        await deadLetters.put(msg, attempt, lastError);
        const committing = src.complete(msg, undefined);
        if (committing !== undefined) await committing;
        summary.skipped++;
        break;
      }
      if (src.isClosed()) return stop(summary, 'end');
      if (signal?.aborted) return stop(summary, 'abort');
      const delay = retryDelayMs(retry, attempt);
      // Even without a delay, give the event loop a turn: a synchronous handler that keeps answering
      // 'retry' must not starve the timers and close() that would stop it.
      if (delay > 0) await sleep(delay, signal, src.closeRequested);
      else await new Promise((resolve) => setImmediate(resolve));
      if (src.isClosed()) return stop(summary, 'end');
      if (signal?.aborted) return stop(summary, 'abort');
      src.checkCursor(); // the record is another owner's now: no attempt more
    }
  }
}

/**
 * The context of one attempt. A class, not an object literal: a literal with a getter defines that
 * accessor anew on every record, which cost about 1 µs of CPU a record on the JetStream consumer's
 * path. `setState` stays an own function, so a handler may take it out of the context
 * (`const { setState } = ctx`); `state` is read through the prototype's getter.
 */
class AttemptContext implements ProcessContext {
  readonly attempt: number;
  readonly logId: string;
  readonly offset: number;
  readonly setState: (value: Uint8Array | string | null) => void;
  readonly #src: RecordSource;
  #staged: Uint8Array | null | undefined = undefined;

  constructor(src: RecordSource, msg: Message, attempt: number) {
    this.attempt = attempt;
    this.logId = src.logId;
    this.offset = msg.offset;
    this.#src = src;
    this.setState = (value) => {
      if (src.stateLimit === null) throw LogError.invalidOption('state', 'a state value is committed with a cursor: use ConsumerStyle.clientTx or globalTx');
      // Anything else would be committed as an empty or zero-filled state without a word.
      // Any realm's Uint8Array, as append takes; one that cannot be read (detached) is refused, not a TypeError of the copy.
      if (value !== null && typeof value !== 'string' && !isBytes(value)) {
        throw LogError.invalidOption('state', `setState takes a Uint8Array, Buffer, string or null, got ${describe(value)}`);
      }
      if (value !== null && typeof value !== 'string' && value.byteLength === 0 && unusable(value)) {
        throw LogError.invalidOption('state', 'setState got a Uint8Array whose buffer was transferred away (detached) or shrank below the view: its bytes can no longer be read');
      }
      // A copy, and ctx.state is one: bytes changed in place after the call (a counter bumped in
      // ctx.state, a scratch buffer used again) must not reach the state the cursor commits, which a
      // 'retry', a 'break' or a throw discards.
      const bytes = value === null ? null : typeof value === 'string' ? Buffer.from(value, 'utf8') : Uint8Array.prototype.slice.call(value);
      checkStateBytes(bytes, src.stateLimit);
      this.#staged = bytes;
    };
  }

  /** The state committed with the cursor so far (a copy). */
  get state(): Uint8Array | null {
    return this.#src.currentState();
  }

  /** What the attempt's last setState staged (undefined: none, the cursor keeps its state). */
  static staged(ctx: AttemptContext): Uint8Array | null | undefined {
    return ctx.#staged;
  }
}

function stop(summary: ProcessSummary, by: ProcessSummary['stoppedBy']): ProcessSummary {
  summary.stoppedBy = by;
  return summary;
}

/** A retry delay: the policy's own wait, cut short by abort or close(). */
function sleep(ms: number, signal: AbortSignal | undefined, closeRequested: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      closeRequested.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    if (signal?.aborted === true || closeRequested.aborted) return done();
    signal?.addEventListener('abort', done, { once: true });
    closeRequested.addEventListener('abort', done, { once: true });
  });
}
