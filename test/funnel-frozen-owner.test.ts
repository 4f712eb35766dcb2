/**
 * A remote producer against an owner that stops answering without closing the socket (its process
 * SIGSTOPped): append(), flush() and close() settle with ERR_IO naming connectTimeoutMs once the
 * owner sent nothing for that long plus its appendTimeoutMs while they waited, the socket is destroyed, and connect() to the
 * frozen owner fails the same way. Each wait is guarded: a call that hangs past the bound + 10 s fails
 * the test instead of hanging it.
 */
import * as assert from 'uvu/assert';
import { ErrorCode, Producer, type RemoteProducer } from '../dist/index.js';
import { Child } from './child.js';
import { rejectsWith, suite, tempDir } from './kit.js';

const test = suite('funnel-frozen-owner');
const BOUND_MS = 1_500;
/** The owner's appendTimeoutMs: the client's silence bound is BOUND_MS plus it. */
const OWNER_APPEND_TIMEOUT_MS = 500;
const GUARD_MS = BOUND_MS + OWNER_APPEND_TIMEOUT_MS + 10_000;

/** `p`, or a rejection when it has not settled within GUARD_MS (it hung). */
function guarded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not settle within ${GUARD_MS} ms: it hangs`)), GUARD_MS); });
  return Promise.race([p, hung]).finally(() => clearTimeout(timer));
}

async function frozenOwner(): Promise<{ logDir: string; owner: Child; remote: RemoteProducer }> {
  const logDir = tempDir();
  const owner = Child.fork('funnel-owner.mjs', [JSON.stringify({ dir: logDir, options: { appendTimeoutMs: OWNER_APPEND_TIMEOUT_MS } })], { execArgv: [] });
  await owner.next('open');
  const remote = await Producer.connect({ logDir, connectTimeoutMs: BOUND_MS });
  assert.is(await remote.append('before'), 0, 'the owner answers while it runs');
  process.kill(owner.proc.pid!, 'SIGSTOP');
  return { logDir, owner, remote };
}

async function thaw(owner: Child): Promise<void> {
  process.kill(owner.proc.pid!, 'SIGCONT');
  await owner.kill();
}

type Socketed = { socket: { destroyed: boolean } };

async function timesOut(p: Promise<unknown>, what: string): Promise<number> {
  const t0 = performance.now();
  const e = await guarded(rejectsWith(p, ErrorCode.IO), what);
  const ms = performance.now() - t0;
  assert.match(e.message, `did not answer within connectTimeoutMs (${BOUND_MS} ms)`);
  return ms;
}

test('append() to a frozen owner rejects with ERR_IO within connectTimeoutMs', async () => {
  const { owner, remote } = await frozenOwner();
  try {
    const ms = await timesOut(remote.append('in-doubt'), 'append()');
    assert.ok(ms >= BOUND_MS + OWNER_APPEND_TIMEOUT_MS - 50, `not before the bound, connectTimeoutMs plus the owner's appendTimeoutMs (${ms} ms)`);
    assert.ok((remote as unknown as Socketed).socket.destroyed, 'the socket is destroyed');
    await rejectsWith(remote.append('later'), ErrorCode.IO);
  } finally {
    await thaw(owner);
  }
});

test('flush() to a frozen owner rejects with ERR_IO within connectTimeoutMs', async () => {
  const { owner, remote } = await frozenOwner();
  try {
    await timesOut(remote.flush(), 'flush()');
    assert.ok((remote as unknown as Socketed).socket.destroyed, 'the socket is destroyed');
  } finally {
    await thaw(owner);
  }
});

test('close() with an append waiting on a frozen owner rejects with ERR_IO, and so does the append', async () => {
  const { owner, remote } = await frozenOwner();
  try {
    const a = remote.append('in-doubt').then(() => 'resolved', (e: { code?: string }) => e.code);
    const c = remote.close();
    await timesOut(c, 'close()');
    assert.is(await guarded(a, 'the append'), ErrorCode.IO);
    assert.ok((remote as unknown as Socketed).socket.destroyed, 'the socket is destroyed');
  } finally {
    await thaw(owner);
  }
});

test('close() with a flush aborted by its signal on a frozen owner still settles', async () => {
  const { owner, remote } = await frozenOwner();
  try {
    const ac = new AbortController();
    const f = remote.flush({ signal: ac.signal });
    ac.abort();
    await rejectsWith(f, ErrorCode.ABORTED);
    await timesOut(remote.close(), 'close()');
  } finally {
    await thaw(owner);
  }
});

test('connect() to a frozen owner rejects with ERR_IO within connectTimeoutMs', async () => {
  const { logDir, owner, remote } = await frozenOwner();
  try {
    await timesOut(Producer.connect({ logDir, connectTimeoutMs: BOUND_MS }), 'connect()');
    remote.destroy();
  } finally {
    await thaw(owner);
  }
});

test.run();
