/**
 * One funnel connection on the owner's side (src/funnel/owner-connection.ts) against a socket double
 * whose peer never reads: replies that stay queued below the socket's high-water mark (write() said
 * true) still close the connection once none leaves for REPLY_STALL_MS; a connection the owner ended
 * drops what its client sends afterwards instead of buffering it, and its socket is destroyed within
 * GOODBYE_MS though its last message never leaves; while the log is full, a HELLO is answered and
 * the appends after it wait.
 */
import * as assert from 'uvu/assert';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { GOODBYE_MS, OwnerConnection, REPLY_STALL_MS, type ConnectionHost, type FunnelTarget } from '../src/funnel/owner-connection.js';
import { appendFrame, helloFrame, rawFrame } from './funnel-kit.js';
import { suite, waitFor } from './kit.js';

const test = suite('funnel-connection');

/** A socket whose peer reads nothing: every byte written stays queued, and write() says false past `highWaterMark`. */
class DeafSocket extends EventEmitter {
  writableLength = 0;
  destroyed = false;
  paused = false;
  constructor(private readonly highWaterMark: number) {
    super();
  }
  write(chunk: Buffer, _cb?: () => void): boolean {
    this.writableLength += chunk.byteLength;
    return this.writableLength < this.highWaterMark;
  }
  end(chunk: Buffer, _cb?: () => void): void {
    this.writableLength += chunk.byteLength;
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    queueMicrotask(() => this.emit('close'));
  }
  pause(): void { this.paused = true; }
  resume(): void { this.paused = false; }
  cork(): void {}
  uncork(): void {}
  unref(): void {}
}

/** The connection's frame reader, private: what it holds is the point of the second test. */
type Held = { reader: { bufferedBytes: number } };

function connection(socket: DeafSocket, logFull = false): { appended: string[]; held: () => number } {
  const appended: string[] = [];
  const target: FunnelTarget = {
    append: (data) => { appended.push(Buffer.from(data).toString()); return appended.length - 1; },
    flush: async () => undefined,
    options: { maxRecordBytes: 1024, appendTimeoutMs: 10_000 },
  };
  const host: ConnectionHost = { logFull, onLogFull: () => undefined, onSlowAppend: () => undefined, onClosed: () => undefined };
  const c = new OwnerConnection(socket as unknown as Socket, target, { maxFrameBytes: 64 * 1024, maxRecordBytes: 1024, appendTimeoutMs: 10_000 }, host);
  return { appended, held: () => (c as unknown as Held).reader.bufferedBytes };
}

test('replies that stay queued below the high-water mark close the connection after REPLY_STALL_MS', async () => {
  const socket = new DeafSocket(16 * 1024);
  const { appended } = connection(socket);
  socket.emit('data', Buffer.concat([helloFrame(), appendFrame(['a', 'b'])]));
  assert.equal(appended, ['a', 'b']);
  assert.ok(socket.writableLength > 0 && socket.writableLength < 16 * 1024, `${socket.writableLength} bytes queued, write() said true`);
  const t0 = performance.now();
  await waitFor(() => socket.destroyed, 'the owner to close the connection', REPLY_STALL_MS + 5_000);
  // Not a speed bound: the close must come from the stall rule, not sooner.
  assert.ok(performance.now() - t0 >= REPLY_STALL_MS - 50, `closed after ${Math.round(performance.now() - t0)} ms`);
});

test('an ended connection drops what its client sends next, and its socket goes though the goodbye never leaves', async () => {
  const socket = new DeafSocket(1 << 30);
  const { appended, held } = connection(socket);
  socket.emit('data', Buffer.concat([helloFrame(), appendFrame(['a'])]));
  socket.emit('data', rawFrame(3, Buffer.from([1, 0, 0, 0]), true)); // a bad CRC: the owner ends the connection
  assert.ok(socket.paused, 'reading stopped');
  const queued = socket.writableLength;
  // The client goes on sending: whole frames are not handled, and nothing is kept.
  for (let i = 0; i < 64; i++) socket.emit('data', appendFrame([`late ${i}`]));
  socket.emit('data', Buffer.alloc(1024 * 1024, 0x41));
  assert.is(held(), 0, 'bytes held for an ended connection');
  assert.equal(appended, ['a']);
  assert.is(socket.writableLength, queued, 'no reply to what came after the end');
  await waitFor(() => socket.destroyed, 'the socket to be destroyed', GOODBYE_MS + 5_000);
});

test('while the log is full a HELLO is answered at once, and the APPEND after it waits', () => {
  const socket = new DeafSocket(1 << 30);
  const { appended } = connection(socket, true);
  socket.emit('data', Buffer.concat([helloFrame(), appendFrame(['a'])]));
  assert.is(socket.writableLength, 8 + 1 + 14, 'HELLO_OK written (its 23 bytes), nothing else');
  assert.equal(appended, [], 'the APPEND waits for the pause to end');
  assert.ok(socket.paused, 'reading stopped after the greeting');
});

test.run();
