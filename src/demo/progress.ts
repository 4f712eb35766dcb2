/**
 * The demo's progress (on stderr): one status line rewritten in place (`\r`) when its stream is a
 * terminal, plain lines at a slower pace otherwise (a pipe or a CI log should not fill up with
 * carriage returns).
 */

/** How often the status line is redrawn on a terminal. */
const TTY_INTERVAL_MS = 200;
/** How often a status line is printed when the stream is not a terminal. */
const PLAIN_INTERVAL_MS = 2000;
/** The records/s figure is the append rate over about this long (a window smooths the chunked appends). */
const RATE_WINDOW_MS = 1000;

export interface Snapshot {
  /** Records appended by this run so far. */
  readonly appended: number;
  /** Records this run will append (the --records value). */
  readonly total: number;
  readonly writtenOffset: number;
  readonly durableOffset: number;
  /** Records the consumer has seen and verified in this run. */
  readonly consumed: number;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Records per second, as a whole number. */
export function rate(count: number, ms: number): number {
  return ms > 0 ? Math.round((count * 1000) / ms) : 0;
}

export class Progress {
  private readonly tty: boolean;
  private timer: NodeJS.Timeout | null = null;
  /** Recent (time, appended) samples, oldest first, spanning about RATE_WINDOW_MS. */
  private readonly samples: { ms: number; appended: number }[] = [];
  private lineOpen = false;

  constructor(private readonly out: NodeJS.WriteStream, private readonly sample: () => Snapshot) {
    this.tty = out.isTTY === true;
  }

  start(): void {
    this.samples.push({ ms: performance.now(), appended: this.sample().appended });
    this.timer = setInterval(() => this.draw(), this.tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS);
  }

  /** Draws a last status line and ends it, so what follows starts on a fresh line. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.draw();
    if (this.lineOpen) this.out.write('\n');
    this.lineOpen = false;
  }

  private draw(): void {
    const s = this.sample();
    const now = performance.now();
    while (this.samples.length > 1 && now - this.samples[1]!.ms >= RATE_WINDOW_MS) this.samples.shift();
    const oldest = this.samples[0] ?? { ms: now, appended: s.appended };
    const perSecond = rate(s.appended - oldest.appended, now - oldest.ms);
    this.samples.push({ ms: now, appended: s.appended });
    const pct = s.total > 0 ? ` (${((100 * s.appended) / s.total).toFixed(1)}%)` : '';
    const line = `appended ${formatCount(s.appended)}${pct} | written offset ${formatCount(s.writtenOffset)}`
      + ` | durable offset ${formatCount(s.durableOffset)} | consumed ${formatCount(s.consumed)} | ${formatCount(perSecond)} records/s`;
    if (this.tty) {
      this.out.write(`\r${line}\x1b[K`);
      this.lineOpen = true;
    } else {
      this.out.write(`${line}\n`);
    }
  }
}
