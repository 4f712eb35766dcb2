/**
 * Helpers of test/funnel.test.ts: raw funnel frames written by hand (for hostile clients), a raw
 * socket client that records what it received and when it closed, and settling many promises.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export const HELLO = 1;
export const APPEND = 3;

/** `[u32 length][u32 crc32][type][body]`, as docs/funnel.md describes it; `badCrc` flips the CRC. */
export function rawFrame(type: number, body: Uint8Array, badCrc = false): Buffer {
  const content = Buffer.concat([Buffer.from([type]), body]);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(content.byteLength, 0);
  head.writeUInt32LE((crc32(content) ^ (badCrc ? 1 : 0)) >>> 0, 4);
  return Buffer.concat([head, content]);
}

export function helloFrame(): Buffer {
  return rawFrame(HELLO, Buffer.from([2, 0]));
}

/** An APPEND of plain records (no key or headers). */
export function appendFrame(texts: readonly string[]): Buffer {
  const parts = [Buffer.alloc(4)];
  parts[0]!.writeUInt32LE(texts.length, 0);
  for (const t of texts) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(Buffer.byteLength(t), 0);
    parts.push(len, Buffer.from(t));
  }
  return rawFrame(APPEND, Buffer.concat(parts));
}

/**
 * An APPEND of `n` records that each carry a dedup key (attribute block: flag 4, u16 length, the
 * key): an owner without a dedup window refuses every one, so nothing is appended and the reply
 * holds 8 bytes per record.
 */
export function refusedAppendFrame(n: number): Buffer {
  const record = Buffer.from([0, 0, 0, 0, 4, 1, 0, 0x6b, 0x64]); // payload: flags, u16 1, "k", data "d"
  record.writeUInt32LE((5 | 0x8000_0000) >>> 0, 0);
  const count = Buffer.alloc(4);
  count.writeUInt32LE(n, 0);
  return rawFrame(APPEND, Buffer.concat([count, ...Array.from({ length: n }, () => record)]));
}

/** A raw connection to a log's producer socket: what it received, and a promise that resolves when it closes. */
export interface RawClient {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  received(): Buffer;
  isClosed(): boolean;
}

export async function rawClient(logDir: string, opts: { read?: boolean } = {}): Promise<RawClient> {
  const socket = connect({ path: join(logDir, 'producer.sock') });
  const chunks: Buffer[] = [];
  let closedFlag = false;
  socket.on('error', () => undefined);
  if (opts.read !== false) socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((resolve) => socket.once('close', () => { closedFlag = true; resolve(); }));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  if (opts.read === false) socket.pause();
  return { socket, closed, received: () => Buffer.concat(chunks), isClosed: () => closedFlag };
}

/** How many whole frames of `type` `bytes` holds. */
export function countFrames(bytes: Buffer, type: number): number {
  let n = 0;
  for (let p = 0; p + 9 <= bytes.byteLength; p += 8 + bytes.readUInt32LE(p)) if (bytes[p + 8] === type) n++;
  return n;
}

/** A FLUSH with id `id`. */
export function flushFrame(id: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt32LE(id, 0);
  return rawFrame(5, body);
}

/** The error type and code of an ERROR frame found in `bytes` (the owner's goodbye), or null. */
export function errorCodeIn(bytes: Buffer): string | null {
  for (let p = 0; p + 9 <= bytes.byteLength;) {
    const length = bytes.readUInt32LE(p);
    if (bytes[p + 8] === 8) return bytes.toString('utf8', p + 10, p + 10 + bytes[p + 9]!);
    p += 8 + length;
  }
  return null;
}

export type Settled = { ok: true; offset: number } | { ok: false; code: string };

/** Waits for every promise; each outcome as its offset or its error code. */
export async function settle(ps: ReadonlyArray<Promise<number>>): Promise<Settled[]> {
  return (await Promise.allSettled(ps)).map((s) => (s.status === 'fulfilled'
    ? { ok: true, offset: s.value }
    : { ok: false, code: String((s.reason as { code?: unknown }).code) }));
}
