/**
 * The remote producer's watch on a silent owner. While something waits for the owner, the owner must
 * send bytes at least every `silenceMs()` (the client's connectTimeoutMs plus the owner's
 * appendTimeoutMs: an owner whose ring is full answers only after that): an owner that stops
 * answering without closing the socket (its process stopped, its event loop blocked) ends the
 * connection, so no append, flush or close() waits past that bound. Judged after this thread had a
 * turn to read what the owner sent meanwhile.
 */
export class SilenceWatch {
  /** When the owner last sent bytes, or the handle began to wait for it (performance.now()). */
  private heardAt = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Retires a check already on its way (setImmediate) when the watch stops. */
  private generation = 0;

  constructor(
    private readonly silenceMs: () => number,
    /** Called once the owner was silent for silenceMs() while something waited. */
    private readonly silent: () => void,
  ) {}

  /** The owner sent bytes. */
  heard(): void {
    this.heardAt = performance.now();
  }

  /** Watches while `waiting` (and `failed` is false), stops the watch otherwise. */
  set(waiting: boolean, failed: boolean): void {
    if (!waiting || failed) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.generation++;
      return;
    }
    if (this.timer !== null) return;
    this.heardAt = performance.now();
    this.arm(this.silenceMs());
  }

  private arm(ms: number): void {
    const generation = this.generation;
    this.timer = setTimeout(() => {
      const left = this.heardAt + this.silenceMs() - performance.now();
      if (left > 0) return this.arm(left);
      const heard = this.heardAt;
      setImmediate(() => {
        if (generation !== this.generation) return;
        if (this.heardAt !== heard) return this.arm(Math.max(1, this.heardAt + this.silenceMs() - performance.now()));
        this.silent();
      });
    }, ms); // ref'd, as the socket is while something waits (an unref'd timer may fire seconds late)
  }
}
