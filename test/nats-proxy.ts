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
  drop(prefix: string, count: number, after?: number): void;
  dropped(): number;
  dropReplies(prefix: string, count: number): void;
  repliesDropped(): number;
  lateReply(prefix: string): void;
  repliesLate(): number;
  heartbeatsHandled(): number;
  delay(ms: number): void;
  holdReply(prefix: string, ms: number): void;
  repliesHeld(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a server: hold() keeps the server's bytes to the client back (the client's
 * requests still reach the server) until release(); `published(prefix)` counts the client's
 * publishes (PUB or HPUB) on subjects starting with `prefix` since the last hold(); drop(prefix, n)
 * loses the client's next n publishes on subjects starting with `prefix`, after letting k more
 * through with drop(prefix, n, k) (a request the server never saw: no reply comes, as while a
 * cluster has no leader); `passed(prefix)` counts the publishes on
 * such subjects that went through to the server since the proxy started; dropReplies(prefix, n)
 * lets the client's next n publishes on such subjects through, and loses the server's answer to
 * each (a request the server did, whose reply never came back); lateReply(prefix) lets the client's
 * next publish on such a subject through and holds the server's answer to it back until the next
 * message from the server has reached the client (answers that overtake each other, as answers from
 * two servers of a cluster can around a leader change). With `pingAfterHeartbeat`, the proxy follows
 * each idle heartbeat of a pull (status 100) it passes to the client with a PING of its own, and
 * keeps the client's PONG to it from the server: `heartbeatsHandled()` counts those PONGs, each a
 * heartbeat the client has parsed, its status handed on (a PONG leaves after the microtasks of the
 * parse), which a count of heartbeats passed does not show. holdReply(prefix, ms) lets the client's
 * next publish on such a subject through and hands the server's answer to it to the client `ms`
 * later (a slow answer, overtaken by later ones); `repliesHeld()` counts those handed on. delay(ms) makes the link slow: each command
 * of the client reaches the server `ms` later (in order), as over a link with that latency.
 */
export async function proxyTo(port: number, { pingAfterHeartbeat = false } = {}): Promise<NatsProxy> {
  let held: Buffer[] | null = null;
  let sent = '';
  let dropPrefix = '';
  let dropLeft = 0;
  let dropAfter = 0;
  let droppedCount = 0;
  const through: string[] = [];
  let replyPrefix = '';
  let replyLeft = 0;
  let repliesDroppedCount = 0;
  /** Reply subjects whose next message from the server is lost. */
  const lostReplies = new Set<string>();
  let latePrefix = '';
  let lateLeft = 0;
  let lateSubject: string | null = null;
  let lateCommand: Buffer | null = null;
  let lateCount = 0;
  let heartbeatsHandledCount = 0;
  let delayMs = 0;
  let holdPrefix = '';
  let holdLeft = 0;
  let holdMs = 0;
  let repliesHeldCount = 0;
  /** Reply subjects whose next message from the server reaches the client holdMs later. */
  const heldReplies = new Set<string>();
  const pairs: Array<{ client: Socket; server: Socket }> = [];
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    const pair = { client, server: upstream };
    let pingsOwed = 0; // PINGs of the proxy the client has not answered yet
    pairs.push(pair);
    // Timers of the same delay fire in the order they were set: the commands stay in order.
    const toServer = (command: Buffer): void => {
      if (delayMs === 0) upstream.write(command);
      else setTimeout(() => { if (!upstream.destroyed) upstream.write(command); }, delayMs);
    };
    // The client's protocol, command by command: a publish on the dropped prefix never reaches the server.
    client.on('data', commands(/^H?PUB /i, (line, command) => {
      const [, subject = '', ...rest] = line.trim().split(/\s+/);
      if (pingsOwed > 0 && /^PONG\b/i.test(line)) {
        // Answers come in order: one PONG is the proxy's, the server has one less to get.
        pingsOwed--;
        heartbeatsHandledCount++;
        return;
      }
      if (!/^H?PUB /i.test(line)) return void toServer(command);
      if (dropLeft > 0 && subject.startsWith(dropPrefix) && dropAfter-- <= 0) {
        dropLeft--;
        droppedCount++;
        return;
      }
      if (held !== null) sent += command.toString('latin1');
      through.push(subject);
      // PUB <subject> [reply] <bytes>, HPUB <subject> [reply] <header bytes> <bytes>
      const reply = rest.length === (/^HPUB/i.test(line) ? 3 : 2) ? rest[0]! : null;
      if (replyLeft > 0 && reply !== null && subject.startsWith(replyPrefix)) {
        replyLeft--;
        lostReplies.add(reply);
      } else if (holdLeft > 0 && reply !== null && subject.startsWith(holdPrefix)) {
        holdLeft--;
        heldReplies.add(reply);
      } else if (lateLeft > 0 && reply !== null && subject.startsWith(latePrefix)) {
        lateLeft--;
        lateSubject = reply;
      }
      toServer(command);
    }));
    // The server's protocol, message by message: an answer on a lost reply subject never reaches the client.
    upstream.on('data', commands(/^H?MSG /i, (line, command) => {
      if (/^H?MSG /i.test(line) && lostReplies.delete(line.split(' ')[1]!)) {
        repliesDroppedCount++;
        return;
      }
      if (/^H?MSG /i.test(line) && heldReplies.delete(line.split(' ')[1]!)) {
        const ms = holdMs;
        setTimeout(() => { if (!client.destroyed) client.write(command); repliesHeldCount++; }, ms);
        return;
      }
      if (/^H?MSG /i.test(line) && lateSubject !== null && line.split(' ')[1] === lateSubject) {
        lateSubject = null;
        lateCommand = command;
        return;
      }
      const overtaken = lateCommand !== null && /^H?MSG /i.test(line) ? lateCommand : null;
      if (overtaken !== null) {
        lateCommand = null;
        lateCount++;
      }
      for (const c of overtaken === null ? [command] : [command, overtaken]) {
        if (held !== null) held.push(c);
        else client.write(c);
      }
      if (pingAfterHeartbeat && held === null && /^HMSG /i.test(line) && command.includes('NATS/1.0 100 Idle Heartbeat')) {
        pingsOwed++;
        client.write('PING\r\n');
      }
    }));
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
    drop: (prefix, count, after = 0) => { dropPrefix = prefix; dropLeft = count; dropAfter = after; droppedCount = 0; },
    dropped: () => droppedCount,
    dropReplies: (prefix, count) => { replyPrefix = prefix; replyLeft = count; repliesDroppedCount = 0; },
    repliesDropped: () => repliesDroppedCount,
    lateReply: (prefix) => { latePrefix = prefix; lateLeft = 1; lateCount = 0; },
    repliesLate: () => lateCount,
    heartbeatsHandled: () => heartbeatsHandledCount,
    delay: (ms) => { delayMs = ms; },
    holdReply: (prefix, ms) => { holdPrefix = prefix; holdLeft = 1; holdMs = ms; repliesHeldCount = 0; },
    repliesHeld: () => repliesHeldCount,
    passed: (prefix) => through.filter((subject) => subject.startsWith(prefix)).length,
    published: (prefix) => sent.split(/\r\n/).filter((line) => /^H?PUB /.test(line) && line.split(' ')[1]!.startsWith(prefix)).length,
    close: async () => {
      for (const { client, server: up } of pairs) { client.destroy(); up.destroy(); }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A 'data' listener that splits a NATS protocol stream into whole commands: a line, and for a line
 * matching `withPayload` (its last field the payload's length) the payload and its CRLF too.
 */
function commands(withPayload: RegExp, each: (line: string, command: Buffer) => void): (b: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (b) => {
    pending = Buffer.concat([pending, b]);
    for (;;) {
      const eol = pending.indexOf('\r\n');
      if (eol < 0) return;
      const line = pending.subarray(0, eol).toString('latin1');
      const end = eol + 2 + (withPayload.test(line) ? Number(line.trim().split(/\s+/).at(-1)) + 2 : 0);
      if (pending.length < end) return;
      const command = Buffer.from(pending.subarray(0, end));
      pending = pending.subarray(end);
      each(line, command);
    }
  };
}
