/**
 * A producer's link to its writer thread: what the thread posts (its failure with details, rolls,
 * retention deletions), its exit, the failure the handle reports from all of these, and the control
 * calls answered on the writer thread (comlink; src/writer/control-port.ts).
 *
 * A failure is seen in two steps: the writer stores FAILED in shared memory first (so a synchronous
 * append sees it at once), then posts its error with the system's details. `failureArrived` resolves
 * once those details are in (or the thread is gone), for the callers that want the whole error.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import { wrap, type Remote } from 'comlink';
import { ErrorCode, LogError } from '../errors.js';
import { FailureCode, I32, State, failLog, failureCodeOf, failureError, type ControlViews } from '../ring/layout.js';
import type { WriterToMain } from '../writer/messages.js';
import { HandleEndpoint, type WriterControl } from '../writer/control-port.js';
import { channels, publish, type RetentionEvent, type RollEvent, type WriterFailureEvent } from '../events.js';

export class WriterLink {
  /** The writer's error, once it failed (with the details of its message when that arrived). */
  failure: LogError | null = null;
  /**
   * `failure` is the stand-in destroy() took from shared memory (code only): the writer's `failed`
   * message, with the details, replaces it; the thread's exit settles it when that message never came.
   */
  private failurePending = false;
  /** Resolves with the writer's error when it fails; never settles otherwise (destroy() is not a failure). */
  readonly failed: Promise<LogError>;
  /** Resolves when the thread has exited, whatever the cause. */
  readonly exited: Promise<void>;
  /** Resolves once the writer's failure message (with its details) arrived, or the thread exited. */
  readonly failureArrived: Promise<void>;
  private failureReported: () => void = () => undefined;
  private resolveFailed: (err: LogError) => void = () => undefined;
  private failureAnnounced = false;
  /** destroy() stopped the thread: the FAILED state is destroy's own, not a writer error. */
  private destroyed = false;
  private readonly endpoint: HandleEndpoint;
  /** Control calls awaiting their answer. */
  private calls = 0;
  /** What settles each call still waiting when the thread exits. */
  private readonly unanswered = new Set<() => void>();
  /** The thread has exited. */
  private gone = false;
  /** Set by pin(): the thread stays referenced to its exit. */
  private pinned = false;
  private readonly control: Remote<WriterControl>;

  constructor(
    private readonly worker: Worker,
    private readonly c: ControlViews,
    private readonly logDir: string,
    controlPort: MessagePort,
  ) {
    this.failed = new Promise((resolve) => { this.resolveFailed = resolve; });
    this.failureArrived = new Promise((resolve) => { this.failureReported = resolve; });
    this.endpoint = new HandleEndpoint(controlPort, c);
    this.control = wrap<WriterControl>(this.endpoint);
    worker.on('message', (m: WriterToMain) => this.onMessage(m));
    worker.on('error', (e) => this.markFailed(new LogError(ErrorCode.WRITER_FAILED, `the writer thread failed: ${e.message}`, {}, { cause: e })));
    this.exited = new Promise((resolve) => worker.once('exit', () => {
      this.gone = true;
      // The writer's messages are delivered before its exit: a stand-in still here never gets its details.
      if (this.failurePending) this.settlePendingFailure();
      this.failureReported();
      // Answers the thread posted before it exited are delivered first; the calls left unanswered
      // settle a turn later, after comlink's promise callbacks have run for those answers.
      this.endpoint.close();
      setImmediate(() => { for (const onGone of [...this.unanswered]) onGone(); });
      // A clean close stores CLOSED before the thread exits; destroy() stops the thread on purpose.
      if (Atomics.load(c.i32, I32.STATE) !== State.CLOSED && !this.destroyed) {
        // A log another thread failed (ERR_PRODUCER_STALLED) keeps that cause; its writer stops after draining.
        // ERR_WRITER_FAILED with no message from the writer: a handle's wait saw the thread gone (writer-alive.ts).
        const fromState = this.failureFromState();
        this.markFailed(fromState !== null && fromState.code !== ErrorCode.WRITER_FAILED ? fromState : new LogError(ErrorCode.WRITER_FAILED, 'the writer thread exited unexpectedly'));
      }
      resolve();
    }));
  }

  /** The error that stopped the writer, or null while it runs (or after a clean close or destroy()). */
  get error(): LogError | null {
    return this.failure ?? this.failureFromState();
  }

  /**
   * A control call to the writer thread. `stopped` gives the handle's error when the thread is gone
   * or goes before it answers (a call racing close() may have run and still reject). Nothing is kept
   * of a call once it settled.
   */
  call<T>(run: (control: Remote<WriterControl>) => Promise<T>, stopped: () => never): Promise<T> {
    if (this.gone) return Promise.resolve().then(stopped);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (finish: () => void): void => {
        if (settled) return;
        settled = true;
        this.unanswered.delete(onGone);
        if (--this.calls === 0 && !this.pinned) this.worker.unref();
        finish();
      };
      const onGone = (): void => settle(() => {
        try {
          stopped();
        } catch (e) {
          reject(e);
        }
      });
      this.unanswered.add(onGone);
      // The thread, not the port, keeps the process alive meanwhile: its exit (which settles the call
      // when no answer comes) is an event only a referenced thread is sure to deliver.
      if (this.calls++ === 0) this.worker.ref();
      run(this.control).then((v) => settle(() => resolve(v)), (e: unknown) => settle(() => reject(e)));
    });
  }

  /** close(): the process stays alive until the thread has exited, whatever the calls do. */
  pin(): void {
    this.pinned = true;
    this.worker.ref();
  }

  /**
   * destroy() stops the thread on purpose: a failure already in shared memory stays this link's
   * error (its details replace it when the writer's message comes before the thread's exit); the log
   * is marked FAILED (appends stop, every waiter wakes); nobody waits for details.
   */
  markDestroyed(): void {
    if (this.failure === null) {
      this.failure = this.failureFromState();
      this.failurePending = this.failure !== null && this.failure.code !== ErrorCode.PRODUCER_STALLED;
    }
    this.destroyed = true;
    failLog(this.c, FailureCode.DESTROYED);
    this.failureReported();
  }

  /** The thread died, failed to run or broke the protocol: fail the log for everyone. */
  markFailed(err: LogError): void {
    this.failure ??= err;
    failLog(this.c, failureCodeOf(err.code));
    this.announce(this.failure);
  }

  /** The failure shared memory records (the writer's, or a stalled producer thread's), or null. */
  failureFromState(): LogError | null {
    if (this.destroyed || Atomics.load(this.c.i32, I32.STATE) !== State.FAILED) return null;
    const code = failureError(this.c);
    if (code === ErrorCode.PRODUCER_STALLED) return new LogError(code, 'a thread appending to this log stopped inside an append, holding the append lock: the log accepts no more records');
    return new LogError(code, 'the writer thread stopped after an error (details follow on producer.error)');
  }

  /** Every message the writer posts after `ready`; anything else is a broken protocol (ERR_INTERNAL). */
  private onMessage(m: WriterToMain): void {
    switch (m.type) {
      case 'failed':
        if (this.failure === null || this.failurePending) this.failure = new LogError(m.code, m.message, m.details);
        this.failurePending = false;
        this.failureReported();
        this.announce(this.failure);
        return;
      case 'roll':
        publish(channels.roll, (): RollEvent => ({ logDir: this.logDir, sealedBaseOffset: m.sealedBaseOffset, sealedBytes: m.sealedBytes, baseOffset: m.baseOffset }));
        return;
      case 'retention':
        publish(channels.retention, (): RetentionEvent => ({ logDir: this.logDir, baseOffset: m.baseOffset, endOffset: m.endOffset, bytes: m.bytes, logStartOffset: m.logStartOffset }));
        return;
      case 'ready':
        this.brokenProtocol('a second ready message');
        return;
      default: {
        const unknown: never = m;
        this.brokenProtocol(`an unknown message ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** The writer broke the protocol: this should not happen. Fail with ERR_INTERNAL and stop the writer. */
  private brokenProtocol(what: string): void {
    this.markFailed(new LogError(ErrorCode.INTERNAL, `internal invariant broken: the writer thread posted ${what}`));
    this.failureReported();
    void this.worker.terminate();
  }

  /** destroy() stopped the thread before the writer's `failed` message: announce the failure without its details. */
  private settlePendingFailure(): void {
    this.failurePending = false;
    const code = this.failure?.code ?? ErrorCode.WRITER_FAILED;
    this.failure = new LogError(code, 'the writer thread stopped after an error; destroy() stopped the thread before it reported the details');
    this.announce(this.failure);
  }

  /** Resolves `failed` and publishes reactive-log:writer-failure, once. */
  private announce(err: LogError): void {
    if (this.failureAnnounced) return;
    this.failureAnnounced = true;
    this.resolveFailed(err);
    publish(channels.writerFailure, (): WriterFailureEvent => ({ logDir: this.logDir, error: err }));
  }
}
