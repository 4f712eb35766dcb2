/**
 * A transactional cursor's state on JetStream is committed in one key-value entry, in base64 with
 * the offset, and the server refuses a message past its max_payload. On a server whose max_payload
 * is too small for a 64 KiB state (here 64 KiB: a state of 60,000 bytes is an entry of about 80 KB),
 * ctx.setState refuses a state that cannot be committed with ERR_INVALID_OPTION naming `state`, as it
 * refuses one past 64 KiB, and the consumer goes on. It took it, and the commit failed with ERR_IO:
 * the consumer could commit nothing more, and close() failed too. Skipped with a printed reason
 * without nats-server.
 */
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { freePort, natsServerBinary, runOrSkip, within } from './nats-kit.js';

const test = suite('jetstream state max_payload');
const stops: Array<() => void> = [];
test.after(() => { for (const stop of stops) stop(); });

/** A JetStream server with a max_payload of 64 KiB; its URL. */
async function smallPayloadServer(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'rlog-js-state-'));
  writeFileSync(join(dir, 'server.conf'), 'max_payload: 65536\n');
  const port = await freePort();
  const proc = spawn(natsServerBinary()!, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir, '-c', join(dir, 'server.conf')], { stdio: 'ignore' });
  stops.push(() => {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `nats://127.0.0.1:${port}`;
  await waitFor(async () => {
    try {
      await (await connect({ servers: url, timeout: 500 })).close();
      return true;
    } catch {
      return false;
    }
  }, 'the server to take connections', 15_000);
  return url;
}

test('setState refuses a state the server cannot store with the cursor; the consumer goes on', async () => {
  const url = await smallPayloadServer();
  const backend = jetstream({ servers: url, stream: 'state-payload', leaseMs: 3_000, timeoutMs: 2_000 });
  const p = await Producer.open({ backend });
  for (let i = 0; i < 3; i++) p.append(`r${i}`);
  await p.close();
  const c = await Consumer.open({ backend, style: ConsumerStyle.globalTx() });
  // Set in the handler (a callback: the type checker does not see it assigned).
  const seen: { refused: { code?: string; message?: string; details?: { option?: string } } | null } = { refused: null };
  try {
    const s = await within(c.nonblockingProcess(null, (m, ctx) => {
      if (m.offset === 1) {
        try {
          ctx.setState(new Uint8Array(60_000).fill(7));
        } catch (e) {
          seen.refused = e as typeof seen.refused;
        }
        // The largest state the error names is committed.
        ctx.setState(new Uint8Array(Number(/at most (\d+) bytes/.exec(seen.refused?.message ?? '')?.[1] ?? 0)).fill(9));
      }
      return 'commit';
    }), 20_000, 'the call');
    assert.equal(s, { committed: 3, skipped: 0, retried: 0, stoppedBy: 'end' });
    assert.is(seen.refused?.code, 'ERR_INVALID_OPTION', 'setState refuses a state too large for the server');
    assert.is(seen.refused?.details?.option, 'state');
    assert.is(c.committedOffset, 3);
  } finally {
    await within(c.close(), 20_000, 'close');
  }
  const p2 = await Producer.open({ backend });
  p2.append('r3');
  await p2.close();
  const again = await Consumer.open({ backend, style: ConsumerStyle.globalTx() });
  try {
    assert.is(again.committedOffset, 3);
    let state: Uint8Array | null = null;
    await again.nonblockingProcess(null, (_m, ctx) => { state = ctx.state; return 'commit'; });
    const limit = Number(/at most (\d+) bytes/.exec(seen.refused?.message ?? '')?.[1]);
    assert.ok(limit > 40_000 && limit < 60_000, `the limit ${limit}`);
    assert.is((state as Uint8Array | null)?.byteLength, limit, 'the largest state was committed with the cursor');
  } finally {
    await again.close();
  }
});

runOrSkip(test, 'jetstream state max_payload');
