/**
 * The account's JetStream storage limit (its `max_file`) is checked by nats-server (2.9) after it
 * stored a write: it removes the write again and answers "resource limits exceeded for account"
 * (10002). A cursor's entry is a key-value entry whose bucket keeps one value per key: storing the
 * commit already removed the entry's last value, so a commit refused so left no entry at all, and the
 * next open of the cursor started again at its initial position, handing out again every record
 * committed before. The committed position is kept.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, stopAllNats, within } from './nats-kit.js';
import { fillAccount, startAccountLimitedNats } from './account-limit-kit.js';

const test = suite('jetstream account limit: a refused commit keeps the committed cursor');
test.after(stopAllNats);

test('a commit refused for the account\'s limit: the cursor stays at its last commit', async () => {
  const own = await startAccountLimitedNats();
  const stream = 'acct-commit';
  const nc = await connect({ servers: own.url });
  const jsm = await jetstreamManager(nc);
  const backend = jetstream({ servers: own.url, stream, leaseMs: 30_000, timeoutMs: 3_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  try {
    for (let i = 0; i < 4; i++) p.append(Buffer.alloc(100, i));
    await within(p.flush(), 10_000, 'flush');
    const c = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
    assert.is((await c.nonblockingProcess(2, () => 'commit')).committed, 2, 'committed through offset 1');
    await fillAccount(p, jsm); // room for one more record of 500 B, not two
    // A commit whose entry (its state) is past the room left: refused.
    const outcome = await c.nonblockingProcess(1, (_r, ctx) => { ctx.setState(Buffer.alloc(3_000, 7)); return 'commit'; }).then((r) => `committed ${r.committed}`, (e: { code?: string }) => e.code ?? String(e));
    assert.is(outcome, 'ERR_DISK_FULL', 'the commit is refused');
    await c.destroy().catch(() => undefined);
    const again = await Consumer.open({ backend, style: ConsumerStyle.clientTx('c') });
    try {
      let at = -1;
      await again.nonblockingProcess(1, (r) => { at = r.offset; return 'break'; });
      assert.is(at, 2, 'the reopened cursor hands out the record after its last commit, not the oldest');
    } finally {
      await again.destroy().catch(() => undefined);
    }
  } finally {
    await p.destroy().catch(() => undefined);
    await nc.close();
  }
});

runOrSkip(test, 'jetstream account limit: a refused commit keeps the committed cursor');
