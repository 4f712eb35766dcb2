/**
 * Arrays of one length each, reused: the writer hands a writev a list of buffers per frame, and an
 * array made per frame (a literal, a spread, or an array emptied with `length = 0`, which V8 shrinks)
 * is garbage at every frame. Lengths above `maxCached` get a new array each time. Whoever takes an
 * array owns it until it takes the next one of the same length.
 */
export class ReusedArrays<T> {
  private readonly byLength: T[][] = [];

  constructor(private readonly maxCached = 16) {}

  /** An array of length `n`; its elements are those of its last use until overwritten. */
  of(n: number): T[] {
    let a = this.byLength[n];
    if (a === undefined) {
      a = new Array<T>(n);
      if (n <= this.maxCached) this.byLength[n] = a;
    }
    return a;
  }
}
