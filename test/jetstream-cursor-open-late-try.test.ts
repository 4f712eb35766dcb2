/**
 * A clientTx open reads its cursor's entry and writes it back (cursor.ts, KvCursor.open) under the
 * open's ride (ride.ts): a try still unanswered at the bound is cut there, and one sent in the bound's
 * last timeoutMs gets one more try, which may succeed. The cut try's request goes on; before the fix
 * its late answer let it go on too: its write back was refused for the revision, it read the entry
 * again (now the consumer's first commit) and wrote it back over that commit, so the consumer's next
 * commit was refused for its revision and failed with a false ERR_CURSOR_LOCKED ("taken over or
 * committed by another consumer"). A try cut at the bound now writes nothing.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { Consumer, ConsumerStyle, Producer } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, within } from './nats-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream cursor open: a try cut at the bound writes nothing');
test.after(stopAllNats);

const T = 1_000;

test('the cut try\'s read answered after the open and a commit: the next commit succeeds', async () => {
  const own = await startNats();
  const proxy = await proxyTo(own.port);
  const stream = 'late-cursor-try';
  try {
    const direct = jetstream({ servers: own.url, stream, leaseMs: 30_000 });
    const p = await Producer.open({ backend: direct });
    for (let i = 0; i < 6; i++) p.append(`r${i}`);
    await p.close();
    const first = await Consumer.open({ backend: direct, style: ConsumerStyle.clientTx('c') });
    assert.is((await first.nonblockingProcess(1, () => 'commit')).committed, 1);
    await first.close();
    const gets = `$JS.API.STREAM.MSG.GET.KV_rl-${stream}-cursors`;
    const writes = `$KV.rl-${stream}-cursors.`;
    // The open's reads of the entry: tries at 0 and 1.25 x T lost (the bound ends 3 x T after the
    // first try), the third, at 2.5 x T, answered 0.9 x T later: cut at the bound, one more try opens.
    proxy.drop(gets, 2);
    proxy.holdReply(gets, 0.9 * T);
    const c = await within(Consumer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: T }), style: ConsumerStyle.clientTx('c') }), 10 * T, 'the open');
    try {
      assert.is(proxy.dropped(), 2, 'two reads lost');
      assert.is(proxy.repliesHeld(), 0, 'the open succeeded before the cut try\'s answer came');
      assert.is((await c.nonblockingProcess(1, () => 'commit')).committed, 1, 'a commit before the late answer');
      const base = proxy.passed(writes);
      await waitFor(() => proxy.repliesHeld() >= 1, 'the cut try\'s answer', 2 * T);
      // A cut try that goes on writes the entry twice (refused, then over the commit) within its requests' timeout.
      await waitFor(() => proxy.passed(writes) >= base + 2, 'the cut try\'s writes', T).catch(() => undefined);
      const outcome = await c.nonblockingProcess(1, () => 'commit').then((r) => `committed ${r.committed}`, (e: { code?: string; message?: string }) => `${e.code ?? ''} ${e.message ?? String(e)}`);
      assert.is(outcome, 'committed 1', 'the next commit is not fenced off by the open\'s own cut try');
    } finally {
      await c.close().catch(() => undefined);
    }
  } finally {
    await proxy.close();
    await own.stop();
  }
});

test('a commit\'s try cut at the bound answered after two more commits: the next commit succeeds', async () => {
  const own = await startNats();
  const proxy = await proxyTo(own.port);
  const stream = 'late-commit-try';
  try {
    const direct = jetstream({ servers: own.url, stream, leaseMs: 30_000 });
    const p = await Producer.open({ backend: direct });
    for (let i = 0; i < 6; i++) p.append(`r${i}`);
    await p.close();
    const c = await Consumer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: T }), style: ConsumerStyle.clientTx('c') });
    try {
      const writes = `$KV.rl-${stream}-cursors.`;
      // The commit's writes: tries at 0 and 1.25 x T lost, the third (2.5 x T) stored, its answer
      // 0.9 x T late: cut at the bound, the fourth finds the third's write and adopts its revision.
      proxy.drop(writes, 2);
      proxy.holdReply(writes, 0.9 * T);
      assert.is((await within(c.nonblockingProcess(1, () => 'commit'), 10 * T, 'the first commit')).committed, 1);
      assert.is((await c.nonblockingProcess(1, () => 'commit')).committed, 1, 'a second commit');
      assert.is(proxy.repliesHeld(), 0, 'both commits before the cut try\'s answer came');
      await waitFor(() => proxy.repliesHeld() >= 1, 'the cut try\'s answer', 2 * T);
      const outcome = await c.nonblockingProcess(1, () => 'commit').then((r) => `committed ${r.committed}`, (e: { code?: string; message?: string }) => `${e.code ?? ''} ${e.message ?? String(e)}`);
      assert.is(outcome, 'committed 1', 'the late answer of a cut try does not set the cursor\'s revision back');
    } finally {
      await c.close().catch(() => undefined);
    }
  } finally {
    await proxy.close();
    await own.stop();
  }
});

runOrSkip(test, 'jetstream cursor open: a try cut at the bound writes nothing');
