/**
 * A TCP proxy between NATS clients and a server, for the tests that lose or hold back what one side
 * sends (test/jetstream-consumer-ride.test.ts, test/jetstream-lease.test.ts).
 */
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';

/** The proxy's controls; see proxyTo. */
export interface NatsProxy {
  readonly url: string;
  hold(): void;
  release(): void;
  published(prefix: string): number;
  passed(prefix: string): number;
  drop(prefix: string, count: number): void;
  dropped(): number;
  dropReplies(prefix: string, count: number): void;
  repliesDropped(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a server: hold() keeps the server's bytes to the client back (the client's
 * requests still reach the server) until release(); `published(prefix)` counts the client's
 * publishes (PUB or HPUB) on subjects starting with `prefix` since the last hold(); drop(prefix, n)
 * loses the client's next n publishes on subjects starting with `prefix` (a request the server never
 * saw: no reply comes, as while a cluster has no leader); `passed(prefix)` counts the publishes on
 * such subjects that went through to the server since the proxy started; dropReplies(prefix, n)
 * lets the client's next n publishes on such subjects through, and loses the server's answer to
 * each (a request the server did, whose reply never came back).
 */
export async function proxyTo(port: number): Promise<NatsProxy> {
  let held: Buffer[] | null = null;
  let sent = '';
  let dropPrefix = '';
  let dropLeft = 0;
  let droppedCount = 0;
  const through: string[] = [];
  let replyPrefix = '';
  let replyLeft = 0;
  let repliesDroppedCount = 0;
  /** Reply subjects whose next message from the server is lost. */
  const lostReplies = new Set<string>();
  const pairs: Array<{ client: Socket; server: Socket }> = [];
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    const pair = { client, server: upstream };
    pairs.push(pair);
    // The client's protocol, command by command: a publish on the dropped prefix never reaches the server.
    let pending = Buffer.alloc(0);
    const fromClient = (b: Buffer): void => {
      pending = Buffer.concat([pending, b]);
      for (;;) {
        const eol = pending.indexOf('\r\n');
        if (eol < 0) return;
        const line = pending.subarray(0, eol).toString('latin1');
        let end = eol + 2;
        if (/^H?PUB /i.test(line)) {
          end += Number(line.trim().split(/\s+/).at(-1)) + 2;
          if (pending.length < end) return;
        }
        const command = pending.subarray(0, end);
        pending = pending.subarray(end);
        if (dropLeft > 0 && /^H?PUB /i.test(line) && line.split(' ')[1]!.startsWith(dropPrefix)) {
          dropLeft--;
          droppedCount++;
          continue;
        }
        if (held !== null) sent += command.toString('latin1');
        if (/^H?PUB /i.test(line)) {
          const parts = line.trim().split(/\s+/);
          through.push(parts[1]!);
          // PUB <subject> [reply] <bytes>, HPUB <subject> [reply] <header bytes> <bytes>
          const reply = parts.length === (/^HPUB/i.test(line) ? 5 : 4) ? parts[2]! : null;
          if (replyLeft > 0 && reply !== null && parts[1]!.startsWith(replyPrefix)) {
            replyLeft--;
            lostReplies.add(reply);
          }
        }
        upstream.write(command);
      }
    };
    client.on('data', fromClient);
    // The server's protocol, message by message: an answer on a lost reply subject never reaches the client.
    let fromServerPending = Buffer.alloc(0);
    const forward = (b: Buffer): void => { if (held !== null) held.push(b); else client.write(b); };
    upstream.on('data', (b: Buffer) => {
      fromServerPending = Buffer.concat([fromServerPending, b]);
      for (;;) {
        const eol = fromServerPending.indexOf('\r\n');
        if (eol < 0) return;
        const line = fromServerPending.subarray(0, eol).toString('latin1');
        let end = eol + 2;
        const isMsg = /^H?MSG /i.test(line);
        if (isMsg) {
          end += Number(line.trim().split(/\s+/).at(-1)) + 2;
          if (fromServerPending.length < end) return;
        }
        const command = fromServerPending.subarray(0, end);
        fromServerPending = fromServerPending.subarray(end);
        const subject = isMsg ? line.split(' ')[1]! : '';
        if (isMsg && lostReplies.delete(subject)) {
          repliesDroppedCount++;
          continue;
        }
        forward(Buffer.from(command));
      }
    });
    const end = (): void => { client.destroy(); upstream.destroy(); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `nats://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    hold: () => { held = []; sent = ''; },
    release: () => {
      const bytes = held ?? [];
      held = null;
      for (const b of bytes) for (const { client } of pairs) if (!client.destroyed) client.write(b);
    },
    drop: (prefix, count) => { dropPrefix = prefix; dropLeft = count; droppedCount = 0; },
    dropped: () => droppedCount,
    dropReplies: (prefix, count) => { replyPrefix = prefix; replyLeft = count; repliesDroppedCount = 0; },
    repliesDropped: () => repliesDroppedCount,
    passed: (prefix) => through.filter((subject) => subject.startsWith(prefix)).length,
    published: (prefix) => sent.split(/\r\n/).filter((line) => /^H?PUB /.test(line) && line.split(' ')[1]!.startsWith(prefix)).length,
    close: async () => {
      for (const { client, server: up } of pairs) { client.destroy(); up.destroy(); }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
