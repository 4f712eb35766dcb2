/**
 * The client's side of the funnel handshake: the options of `Producer.connect`, the connection to
 * `<logDir>/producer.sock`, and HELLO / HELLO_OK, which tells the client the owner's limits.
 */
import { realpathSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join, sep } from 'node:path';
import { ErrorCode, LogError } from '../errors.js';
import { describe, requireInt, requireLogDir, unwalkablePath } from '../validate.js';
import { FUNNEL_SOCKET_FILE, FrameReader, HELLO_OK_BYTES, MessageType, PROTOCOL_VERSION, decodeError, encodeFrame } from './wire.js';

/** Options of `Producer.connect`. Sizes are in bytes, durations in milliseconds. */
export interface ConnectOptions {
  /** The log directory whose owner opened it with `acceptConnections: true`. Required. */
  logDir: string;
  /**
   * Bytes of appends sent to the owner and not yet answered. Past it, further appends wait in this
   * process (their promises stay pending) until replies come back. Default 4 MiB; 64 KiB to 1 GiB.
   */
  maxInFlightBytes?: number;
  /**
   * How long `connect` waits for the owner's greeting before ERR_IO; plus the owner's appendTimeoutMs,
   * the longest the owner may stay silent while appends, flushes or `close()` wait for its answers:
   * past it the connection is ended and they reject with ERR_IO (an append then is in doubt).
   * Default 10,000 ms.
   */
  connectTimeoutMs?: number;
}

export interface ResolvedConnectOptions {
  readonly logDir: string;
  readonly maxInFlightBytes: number;
  readonly connectTimeoutMs: number;
}

const KNOWN = new Set(['logDir', 'maxInFlightBytes', 'connectTimeoutMs']);
const DEFAULT_MAX_IN_FLIGHT_BYTES = 4 * 1024 * 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** The longest frame taken before HELLO_OK: an ERROR or HELLO_OK. */
const HELLO_REPLY_MAX_BYTES = 4096;
/** The longest path a Unix socket takes on Linux (sun_path, less its NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/** Validates the options of `Producer.connect`; ERR_INVALID_OPTION naming the first bad one. */
export function resolveConnectOptions(options: unknown): ResolvedConnectOptions {
  if (options === null || typeof options !== 'object') throw LogError.invalidOption('options', `expected an object, got ${describe(options)}`);
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw LogError.invalidOption(k, 'unknown option');
  return {
    logDir: requireLogDir(o.logDir),
    maxInFlightBytes: o.maxInFlightBytes === undefined ? DEFAULT_MAX_IN_FLIGHT_BYTES : requireInt('maxInFlightBytes', o.maxInFlightBytes, 64 * 1024, 1024 ** 3),
    connectTimeoutMs: o.connectTimeoutMs === undefined ? DEFAULT_CONNECT_TIMEOUT_MS : requireInt('connectTimeoutMs', o.connectTimeoutMs, 1, 3_600_000),
  };
}

/** What HELLO_OK told the client. */
export interface OwnerLimits {
  /** The largest frame the owner reads from a client, in bytes: a batch of appends is sealed below it. */
  readonly maxFrameBytes: number;
  /** The owner's `maxRecordBytes`: a larger record is refused on the client, before it is sent. */
  readonly maxRecordBytes: number;
  /**
   * The owner's `appendTimeoutMs`: how long its append may wait for ring room (its thread sending
   * nothing meanwhile) before it answers ERR_LOG_FULL. The handle's silence bound adds it.
   */
  readonly appendTimeoutMs: number;
}

/** A connection that finished its handshake, with the reader holding any bytes that came after HELLO_OK. */
export interface Greeted {
  readonly socket: Socket;
  readonly reader: FrameReader;
  readonly limits: OwnerLimits;
}

/**
 * The socket path: as given, or through the real path when that one is too long for a socket. Not
 * cleaned by text (join would): a '..' after a symbolic link is the parent of the link's target, as
 * the owner's open took it.
 */
function socketPath(logDir: string): string {
  const given = logDir.endsWith(sep) ? `${logDir}${FUNNEL_SOCKET_FILE}` : `${logDir}${sep}${FUNNEL_SOCKET_FILE}`;
  if (Buffer.byteLength(given) <= MAX_SOCKET_PATH_BYTES) return given;
  let real = given;
  try {
    real = join(realpathSync.native(logDir), FUNNEL_SOCKET_FILE);
  } catch { /* not there: the connect says so */ }
  if (Buffer.byteLength(real) > MAX_SOCKET_PATH_BYTES) throw LogError.invalidOption('logDir', `the socket path ${given} is longer than a Unix socket path may be (${MAX_SOCKET_PATH_BYTES} bytes)`);
  return real;
}

/**
 * Connects and greets. ERR_LOG_CLOSED when no owner listens (no socket file, or one nobody holds);
 * ERR_IO for another failure, or an owner that does not greet within connectTimeoutMs.
 */
export async function openFunnelSocket(opts: ResolvedConnectOptions): Promise<Greeted> {
  const path = socketPath(opts.logDir);
  const socket = connect({ path });
  const reader = new FrameReader(HELLO_REPLY_MAX_BYTES);
  try {
    const limits = await greet(socket, reader, opts, path);
    // A reply is at most twice its batch (8 bytes per record of 4 bytes or more), plus its errors.
    reader.limit(2 * limits.maxFrameBytes + 1024 * 1024);
    return { socket, reader, limits };
  } catch (e) {
    socket.destroy();
    throw e;
  }
}

function greet(socket: Socket, reader: FrameReader, opts: ResolvedConnectOptions, path: string): Promise<OwnerLimits> {
  return new Promise<OwnerLimits>((resolve, reject) => {
    let settled = false;
    // Judged after this thread's next poll phase: a timer that comes due while the thread is busy
    // runs before the poll that reads a greeting the owner sent meanwhile (as the handle's silence watch).
    const timer = setTimeout(() => setImmediate(() => {
      if (!settled) fail(new LogError(ErrorCode.IO, `the owner of ${opts.logDir} did not answer within connectTimeoutMs (${opts.connectTimeoutMs} ms)`));
    }), opts.connectTimeoutMs);
    const done = (): void => {
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData).off('error', onError).off('close', onClose);
    };
    const fail = (e: LogError): void => { done(); reject(e); };
    const onError = (e: NodeJS.ErrnoException): void => fail(connectError(e, opts.logDir, path));
    const onClose = (): void => fail(new LogError(ErrorCode.LOG_CLOSED, `the owner of ${opts.logDir} closed the connection before greeting (too many connections, or closing)`));
    const onData = (chunk: Buffer): void => {
      reader.push(chunk);
      const limits = helloReply(reader, opts.logDir);
      if (limits === null) return;
      done();
      if (limits instanceof LogError) reject(limits);
      else resolve(limits);
    };
    socket.on('data', onData).on('error', onError).on('close', onClose);
    const hello = Buffer.allocUnsafe(2);
    hello.writeUInt16LE(PROTOCOL_VERSION, 0);
    socket.write(encodeFrame(MessageType.HELLO, hello));
  });
}

/** The owner's limits from HELLO_OK; null while it is incomplete; a LogError for an ERROR or a malformed reply. */
function helloReply(reader: FrameReader, logDir: string): OwnerLimits | LogError | null {
  const f = reader.next();
  if (f === null) return null;
  if (typeof f === 'string') return brokenReply(logDir, f);
  if (f.type === MessageType.ERROR) {
    const e = decodeError(f.body, 0);
    return e === null ? brokenReply(logDir, 'a malformed ERROR') : remoteError(e.code, e.message);
  }
  if (f.type !== MessageType.HELLO_OK || f.body.byteLength !== HELLO_OK_BYTES) return brokenReply(logDir, `message type ${f.type} instead of HELLO_OK`);
  return { maxFrameBytes: f.body.readUInt32LE(2), maxRecordBytes: f.body.readUInt32LE(6), appendTimeoutMs: f.body.readUInt32LE(10) };
}

function connectError(e: NodeJS.ErrnoException, logDir: string, path: string): LogError {
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'ENOTDIR') {
    return new LogError(ErrorCode.LOG_CLOSED, `no producer accepts connections for ${logDir} (${e.code} on ${path}): the owner opens it with Producer.open({ logDir, acceptConnections: true })`, { file: path, syscallCode: e.code });
  }
  const why = unwalkablePath(e.code);
  if (why !== null) return LogError.invalidOption('logDir', `${describe(logDir)} ${why}`);
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE') {
    // The owner closed (or ended) while this connection waited to be accepted or greeted.
    return new LogError(ErrorCode.LOG_CLOSED, `the producer of ${logDir} closed the connection before greeting it (${e.code} on ${path}): it closed or went away`, { file: path, syscallCode: e.code });
  }
  return LogError.fromSystem(e, 'connecting to the producer socket', path);
}

/** ERR_IO: the owner's bytes are not the protocol. */
export function brokenReply(logDir: string, why: string): LogError {
  return new LogError(ErrorCode.IO, `the funnel connection to the owner of ${logDir} broke: it sent ${why}`);
}

const CODES = new Set<string>(Object.values(ErrorCode));

/** The LogError for an error the owner sent: its code (ERR_IO for a code this version does not know) and message. */
export function remoteError(code: string, message: string): LogError {
  return new LogError(CODES.has(code) ? (code as ErrorCode) : ErrorCode.IO, message);
}
