/**
 * A progress bar for long commands (verify, repair, dump to a file, bench): one line on stderr,
 * redrawn in place at most 10 times a second, only when stderr is a terminal (or
 * REACTIVE_LOG_PROGRESS=1, which prints each redraw on a line of its own, for logs and tests). Data
 * on stdout is never touched. A message on stderr (common.ts `message`, a failure thrown while a bar
 * draws included) ends the bars first, so it never follows a half-drawn line.
 */

/** At most one redraw per this many ms. */
const REDRAW_MS = 100;
const WIDTH = 30;

/** Bars with a half line on the terminal: a message on stderr ends them first (endProgressBars). */
const drawnBars = new Set<ProgressBar>();

/**
 * Ends every bar that has a half line on the terminal, so that what is written to stderr next (a
 * failure's message, thrown while a bar was drawing) starts on a line of its own.
 */
export function endProgressBars(): void {
  for (const bar of [...drawnBars]) bar.end();
}

export class ProgressBar {
  private readonly mode: 'tty' | 'lines' | 'off';
  private last = 0;
  private drawn = false;
  /** The figures of an update skipped by the redraw limit: end() draws them, so the last state shows. */
  private skipped: [number, number | null, string] | null = null;

  constructor(private readonly label: string) {
    this.mode = process.stderr.isTTY === true ? 'tty' : process.env.REACTIVE_LOG_PROGRESS === '1' ? 'lines' : 'off';
  }

  /** Shows `done` of `total` (total null: a count without a bar), `unit` after the figures. */
  update(done: number, total: number | null, unit: string): void {
    if (this.mode === 'off') return;
    const now = performance.now();
    if (now - this.last < REDRAW_MS && done !== total) {
      this.skipped = [done, total, unit];
      return;
    }
    this.last = now;
    this.skipped = null;
    const figures = total === null ? `${done.toLocaleString('en-US')} ${unit}` : `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}`;
    const bar = total === null || total === 0 ? '' : `[${'#'.repeat(Math.round((WIDTH * done) / total)).padEnd(WIDTH, '.')}] `;
    const line = `${this.label} ${bar}${figures}`;
    if (this.mode === 'tty') process.stderr.write(`\r${line}\x1b[K`);
    else process.stderr.write(`${line}\n`);
    this.drawn = true;
    if (this.mode === 'tty') drawnBars.add(this);
  }

  /** Ends the bar's line (a terminal's cursor goes back to the start of the next one). */
  end(): void {
    if (this.skipped !== null) {
      const [done, total, unit] = this.skipped;
      this.last = 0;
      this.update(done, total, unit);
    }
    if (this.mode === 'tty' && this.drawn) process.stderr.write('\n');
    this.drawn = false;
    drawnBars.delete(this);
  }
}
