/**
 * The records a reader hands out are views of the bytes it read: Buffers, made the way Node makes its
 * own (a Uint8Array subclass whose prototype is Buffer.prototype, as Node's FastBuffer), without the
 * argument checks of `buf.subarray()`, which cost about as much again as the view itself (42 ns against
 * 24 ns a record, measured on the reference machine). Every Buffer method works on them, `Buffer.isBuffer`
 * is true, and their `constructor` is Buffer, as for any Buffer.
 */
export class RecordBytes extends Uint8Array {
  // Explicit: the implicit constructor passes its arguments on as a spread, which V8 does not inline.
  constructor(buffer: ArrayBuffer, byteOffset: number, length: number) {
    super(buffer, byteOffset, length);
  }
}
Object.setPrototypeOf(RecordBytes.prototype, Buffer.prototype);
Object.defineProperty(RecordBytes.prototype, 'constructor', { value: Buffer, writable: true, configurable: true });

/** A Buffer viewing bytes `start` to `end` (exclusive) of `buf`, which must hold them (bytes read from a file: never shared memory). */
export function recordView(buf: Uint8Array, start: number, end: number): Buffer {
  return new RecordBytes(buf.buffer as ArrayBuffer, buf.byteOffset + start, end - start) as unknown as Buffer;
}
