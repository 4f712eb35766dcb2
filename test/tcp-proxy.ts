/**
 * A plain TCP proxy for network-fault tests (test/jetstream-net-fault.test.ts): it listens on
 * 127.0.0.1 on a free port and forwards every connection to a server on 127.0.0.1:`port`, byte for
 * byte, counting the bytes and chunks that pass in each direction ('up': client to server, 'down':
 * server to client) across all its connections. A fault armed with `arm()` fires once the count of
 * one direction (or of both, 'any') reaches N bytes or N chunks: the chunk that reaches it is passed
 * up to the Nth byte (a frame torn mid-way), then every connection is cut (destroyed both ways) or
 * forwarding pauses (nothing passes either way until `resume()`). `cut()` and `pause()` do the same
 * on demand. New connections are taken after a cut (a client reconnects); while paused, they are
 * accepted and held too.
 */
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';

export type Direction = 'up' | 'down' | 'any';
export type FaultAction = 'cut' | 'pause';

export interface ArmedFault {
  readonly direction: Direction;
  /** Fire once this many bytes passed in `direction` (counted since the proxy started). */
  readonly afterBytes?: number;
  /** Fire once this many chunks passed in `direction`. */
  readonly afterChunks?: number;
  readonly action: FaultAction;
  /** With 'pause': forwarding resumes this long after the fault fired (else only at resume()). */
  readonly resumeAfterMs?: number;
}

export interface TcpProxy {
  readonly url: string;
  readonly port: number;
  /** Bytes and chunks passed so far in each direction. */
  counts(): { up: { bytes: number; chunks: number }; down: { bytes: number; chunks: number } };
  /** Arms one fault (replacing any armed one); `fired()` says whether it fired. */
  arm(fault: ArmedFault): void;
  fired(): boolean;
  /** Cuts every connection now. */
  cut(): void;
  /** Holds back everything, both ways, from now on, until resume(). */
  pause(): void;
  resume(): void;
  /** How many connections were cut so far. */
  cuts(): number;
  close(): Promise<void>;
}

interface Pair { client: Socket; server: Socket; held: Array<{ dir: 'up' | 'down'; to: Socket; b: Buffer }> }

export async function tcpProxy(port: number): Promise<TcpProxy> {
  const count = { up: { bytes: 0, chunks: 0 }, down: { bytes: 0, chunks: 0 } };
  let armed: ArmedFault | null = null;
  let didFire = false;
  let paused = false;
  let cutCount = 0;
  let resumeTimer: NodeJS.Timeout | undefined;
  const pairs = new Set<Pair>();

  const cutAll = (): void => {
    for (const p of pairs) {
      cutCount++;
      p.client.destroy();
      p.server.destroy();
    }
    pairs.clear();
  };

  /** How many bytes of a chunk of `n` in `dir` pass before the armed fault fires (n: it does not). */
  const room = (dir: 'up' | 'down', n: number): number => {
    if (armed === null || (armed.direction !== 'any' && armed.direction !== dir)) return n;
    const c = armed.direction === 'any' ? { bytes: count.up.bytes + count.down.bytes, chunks: count.up.chunks + count.down.chunks } : count[dir];
    if (armed.afterBytes !== undefined) return Math.max(0, Math.min(n, armed.afterBytes - c.bytes));
    if (armed.afterChunks !== undefined && c.chunks >= armed.afterChunks) return 0;
    return n;
  };
  const reached = (dir: 'up' | 'down'): boolean => {
    if (armed === null || (armed.direction !== 'any' && armed.direction !== dir)) return false;
    const c = armed.direction === 'any' ? { bytes: count.up.bytes + count.down.bytes, chunks: count.up.chunks + count.down.chunks } : count[dir];
    return (armed.afterBytes !== undefined && c.bytes >= armed.afterBytes) || (armed.afterChunks !== undefined && c.chunks >= armed.afterChunks);
  };
  const fire = (): void => {
    const { action, resumeAfterMs } = armed!;
    armed = null;
    didFire = true;
    if (action === 'cut') cutAll();
    else paused = true;
    if (action === 'pause' && resumeAfterMs !== undefined) resumeTimer = setTimeout(resume, resumeAfterMs);
  };

  const forward = (pair: Pair, dir: 'up' | 'down', to: Socket, b: Buffer): void => {
    if (paused) { pair.held.push({ dir, to, b }); return; }
    const n = room(dir, b.length);
    const part = n === b.length ? b : b.subarray(0, n);
    if (part.length > 0) {
      count[dir].bytes += part.length;
      count[dir].chunks++;
      to.write(part);
    }
    if (n < b.length || reached(dir)) {
      fire();
      if (paused && n < b.length) pair.held.push({ dir, to, b: b.subarray(n) });
    }
  };

  function resume(): void {
    clearTimeout(resumeTimer);
    paused = false;
    for (const p of [...pairs]) {
      const held = p.held.splice(0);
      for (const { dir, to, b } of held) if (!to.destroyed) forward(p, dir, to, b);
    }
  }

  const server: Server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    const pair: Pair = { client, server: upstream, held: [] };
    pairs.add(pair);
    client.on('data', (b: Buffer) => forward(pair, 'up', upstream, b));
    upstream.on('data', (b: Buffer) => forward(pair, 'down', client, b));
    const end = (): void => { pairs.delete(pair); client.destroy(); upstream.destroy(); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const own = (server.address() as { port: number }).port;
  return {
    url: `nats://127.0.0.1:${own}`,
    port: own,
    counts: () => ({ up: { ...count.up }, down: { ...count.down } }),
    arm: (fault) => { armed = fault; didFire = false; },
    fired: () => didFire,
    cut: cutAll,
    pause: () => { paused = true; },
    resume,
    cuts: () => cutCount,
    close: async () => {
      armed = null;
      clearTimeout(resumeTimer);
      cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
