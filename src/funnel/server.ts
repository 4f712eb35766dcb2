/**
 * The owner's side of the funnel: a Unix socket `<logDir>/producer.sock` (mode 0600) on which other
 * processes of the machine send records to the producer that owns the log. Started by `Producer.open`
 * with `acceptConnections: true`, after the open succeeded, and stopped by close() and destroy()
 * before the writer stops, so that every client is told (ERR_LOG_CLOSED) rather than cut off.
 *
 * The socket file is removed only by a holder of the producer lock: a stale one (an owner killed with
 * it open) at the next open, whether or not that open accepts connections, and its own at stop.
 */
import { chmodSync, closeSync, constants, existsSync, lstatSync, openSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { ErrorCode, LogError } from '../errors.js';
import { realPathOf } from '../storage/real-path.js';
import { GOODBYE_MS, OwnerConnection, type ConnectionHost, type FunnelLimits, type FunnelTarget } from './owner-connection.js';
import { CLIENT_BATCH_BYTES, FUNNEL_SOCKET_FILE, LOG_FULL_PAUSE_MS, MessageType, encodeError, encodeFrame } from './wire.js';

/** The most client connections one owner serves at once; more are refused by the listener. */
export const MAX_CONNECTIONS = 64;
/** Connections past MAX_CONNECTIONS the listener still takes at once to refuse them with a reason. */
const MAX_REFUSED_AT_ONCE = 1024;
/**
 * Room in a frame beside its largest record: a client seals its batch once it passes
 * CLIENT_BATCH_BYTES, so a batch holds less than that plus one record and its header.
 */
const FRAME_HEADROOM_BYTES = 2 * CLIENT_BATCH_BYTES;
/** A frame may hold this much even when records are small: client batches are smaller. */
const MIN_FRAME_BYTES = 1024 * 1024;
/** The longest path a Unix socket takes on Linux (sun_path, less its NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/** The socket's path for a log directory (its real path). */
export function funnelSocketPath(logDir: string): string {
  return join(logDir, FUNNEL_SOCKET_FILE);
}

/**
 * Removes a socket file left by an owner that died with it open; then, with `accept`, listens.
 * The caller holds the producer lock of `logDir`. A file of that name that is not a socket is left
 * alone (ERR_IO when `accept` needs its name).
 */
export async function startFunnel(target: FunnelTarget, logDir: string, accept: boolean): Promise<FunnelServer | null> {
  const path = funnelSocketPath(logDir);
  removeStaleSocket(path);
  if (!accept) return null;
  return FunnelServer.listen(target, path);
}

/**
 * ERR_INVALID_OPTION when the socket of the log at `logDir` (which may not exist yet) would have a
 * path too long for a Unix socket: Producer.open checks it before it creates or recovers anything.
 */
export function checkSocketPathFor(logDir: string): void {
  checkSocketPath(funnelSocketPath(realPathOf(logDir)));
}

/**
 * ERR_IO when `<realDir>/producer.sock` is a file that is not a socket: it is never removed, so the
 * listener could not take its name. Producer.open checks it before it recovers or writes anything.
 */
export function checkSocketNameFor(realDir: string): void {
  const path = funnelSocketPath(realDir);
  try {
    if (lstatSync(path).isSocket()) return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw LogError.fromSystem(e, 'looking at the producer socket', path);
  }
  throw new LogError(ErrorCode.IO, `${path} is not a socket: acceptConnections needs that name, and a file that is not a socket is never removed (remove it, or open without acceptConnections)`, { file: path });
}

function checkSocketPath(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw LogError.invalidOption('acceptConnections', `the socket path ${path} is ${bytes} bytes, and a Unix socket path takes at most ${MAX_SOCKET_PATH_BYTES}: use a shorter logDir`);
  }
}

/**
 * Answers a connection the owner does not serve with an ERROR message and closes it. What the client
 * sends meanwhile (its HELLO) is read and dropped: unread bytes at the close would make the kernel
 * reset the connection, and the client would see the reset instead of the message.
 */
function refuse(socket: Socket, code: string, message: string): void {
  socket.unref();
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  socket.resume();
  socket.end(encodeFrame(MessageType.ERROR, encodeError(code, message)));
  setTimeout(() => socket.destroy(), GOODBYE_MS).unref();
}

/** A descriptor of the directory `dir`, or null when it cannot be opened (the socket is then bound by its path). */
function openDir(dir: string): number | null {
  try {
    return openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return null;
  }
}

function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw LogError.fromSystem(e, 'removing a stale producer socket', path);
  }
}

export class FunnelServer implements ConnectionHost {
  private readonly connections = new Set<OwnerConnection>();
  private fullTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The socket file this listener made (device and inode): stop() removes that file only. */
  private made: { dev: bigint; ino: bigint } | null = null;

  private constructor(private readonly server: Server, private readonly path: string, private readonly dirFd: number | null) {}

  /** Listens on `path`, mode 0600; ERR_INVALID_OPTION for a path too long for a socket, ERR_IO when listening fails. */
  static async listen(target: FunnelTarget, path: string): Promise<FunnelServer> {
    checkSocketPath(path);
    const limits: FunnelLimits = {
      maxRecordBytes: target.options.maxRecordBytes,
      appendTimeoutMs: target.options.appendTimeoutMs,
      maxFrameBytes: Math.max(target.options.maxRecordBytes, MIN_FRAME_BYTES) + FRAME_HEADROOM_BYTES,
    };
    // Bound through a descriptor of the directory where the system has one (Linux's /proc/self/fd):
    // the listener's close removes its socket file by the name it was bound with, and that name then
    // follows the directory, moved away or not, never naming a new log's socket at the old path.
    // Where that bind is refused (a sandbox's /proc), the plain path.
    const dirFd = existsSync('/proc/self/fd') ? openDir(dirname(path)) : null;
    let funnel: FunnelServer | null = null;
    if (dirFd !== null) funnel = await FunnelServer.bind(target, path, limits, dirFd).catch(() => null);
    funnel ??= await FunnelServer.bind(target, path, limits, null);
    funnel.secure();
    return funnel;
  }

  /**
   * Listens on `path` (through the directory's descriptor `dirFd` when there is one, closed when the
   * listen fails): ERR_IO when listening fails.
   */
  private static async bind(target: FunnelTarget, path: string, limits: FunnelLimits, dirFd: number | null): Promise<FunnelServer> {
    const server = createServer({ pauseOnConnect: true });
    // Past MAX_CONNECTIONS a client is told so (accept); the kernel-level limit is only a backstop
    // against a flood of descriptors, since a connection it drops sees a reset instead of a reason
    // (ERR_LOG_CLOSED): refused connections count until their clients close them (at most GOODBYE_MS),
    // so it leaves room for a burst of them.
    server.maxConnections = MAX_CONNECTIONS + MAX_REFUSED_AT_ONCE;
    const bindPath = dirFd === null ? path : `/proc/self/fd/${dirFd}/${FUNNEL_SOCKET_FILE}`;
    const funnel = new FunnelServer(server, path, dirFd);
    server.on('connection', (socket) => funnel.accept(socket, target, limits));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e) => reject(LogError.fromSystem(e, 'listening for producer connections', path)));
        server.listen({ path: bindPath }, () => resolve());
      });
    } catch (e) {
      if (dirFd !== null) closeSync(dirFd);
      throw e;
    }
    server.on('error', () => undefined); // after listening, a failed accept concerns that client only
    server.unref();
    return funnel;
  }

  /** Only the owning user may connect. */
  private secure(): void {
    try {
      const st = lstatSync(this.path, { bigint: true });
      this.made = { dev: st.dev, ino: st.ino };
      chmodSync(this.path, 0o600);
    } catch (e) {
      this.stop();
      throw LogError.fromSystem(e, 'restricting the producer socket to its owner', this.path);
    }
  }

  private accept(socket: Socket, target: FunnelTarget, limits: FunnelLimits): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    if (this.connections.size >= MAX_CONNECTIONS) {
      refuse(socket, ErrorCode.LOG_FULL, `the producer that owns the log serves its limit of ${MAX_CONNECTIONS} connections: close one, or connect again later`);
      return;
    }
    const c = new OwnerConnection(socket, target, limits, this);
    this.connections.add(c);
    c.resume();
  }

  get logFull(): boolean {
    return this.fullTimer !== null;
  }

  onLogFull(): void {
    if (this.fullTimer !== null) return;
    this.fullTimer = setTimeout(() => {
      this.fullTimer = null;
      for (const c of this.connections) c.resume();
    }, LOG_FULL_PAUSE_MS).unref();
  }

  onSlowAppend(c: OwnerConnection): void {
    for (const other of this.connections) if (other !== c) other.alive();
  }

  onClosed(c: OwnerConnection): void {
    this.connections.delete(c);
  }

  /**
   * Stops listening, ends every connection with ERR_LOG_CLOSED (what a client waits for then rejects
   * with it) and removes the socket file it made (not another one at its path). Synchronous; safe to call twice.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.fullTimer !== null) clearTimeout(this.fullTimer);
    this.server.close(); // removes the socket file by the name it was bound with, at once
    if (this.dirFd !== null) closeSync(this.dirFd);
    for (const c of this.connections) c.end(ErrorCode.LOG_CLOSED, 'the producer that owns the log is closing');
    try {
      // Only the file this listener made: the directory may have been moved away meanwhile, and the
      // file now at the path be the socket of a new log's owner there.
      const st = lstatSync(this.path, { bigint: true });
      if (this.made !== null && st.dev === this.made.dev && st.ino === this.made.ino) unlinkSync(this.path);
    } catch {
      // Gone already: the next owner's open removes what is left.
    }
  }
}
