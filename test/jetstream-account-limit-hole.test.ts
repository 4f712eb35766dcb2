/**
 * The account's JetStream storage limit (its `max_file`) reached: nats-server (2.9) stores the record,
 * finds the account past its limit, removes the record again and answers "resource limits exceeded
 * for account" (10002); the stream's last sequence has moved past the record's slot (a hole, as a
 * deleted message). When the answer to the record before it was lost, the producer's resync read the
 * stream's end past the refused record, took the missing record for one the stream's limits removed,
 * and counted it acknowledged: flush() resolved, an acknowledged record that was never stored. The
 * producer stops with ERR_DISK_FULL at it instead, every record before it acknowledged.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { suite } from './kit.js';
import { runOrSkip, stopAllNats, within } from './nats-kit.js';
import { fillAccount, startAccountLimitedNats } from './account-limit-kit.js';
import { proxyTo } from './nats-proxy.js';

const test = suite('jetstream account limit: a refused record is never acknowledged');
test.after(stopAllNats);

test('the answer before the refused record lost: flush() rejects with ERR_DISK_FULL, no missing record acknowledged', async () => {
  const own = await startAccountLimitedNats();
  const proxy = await proxyTo(own.port);
  const stream = 'acct-hole';
  const nc = await connect({ servers: own.url });
  const jsm = await jetstreamManager(nc);
  const p = await Producer.open({ backend: jetstream({ servers: proxy.url, stream, leaseMs: 30_000, timeoutMs: 3_000 }), syncPolicy: SyncPolicy.never() });
  try {
    const subject = (await jsm.streams.info(stream)).config.subjects![0]!;
    await fillAccount(p, jsm); // room for one more record of 500 B, not two
    const j = p.nextOffset;
    proxy.dropReplies(subject, 1); // the answer to record j is lost: a resync confirms it
    p.append(Buffer.alloc(500, 2)); // j: fits
    p.append(Buffer.alloc(500, 3)); // j + 1: past the account's limit
    const outcome = await within(p.flush().then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e)), 15_000, 'the flush');
    const state = (await jsm.streams.info(stream)).state;
    assert.ok(p.durableOffset <= state.messages, `acknowledged through offset ${p.durableOffset - 1}, the stream holds ${state.messages} records (last sequence ${state.last_seq})`);
    assert.is(outcome, 'ERR_DISK_FULL', 'the refused record stops the producer');
    assert.is(p.durableOffset, j + 1, 'record j acknowledged, the refused one not');
  } finally {
    await p.destroy().catch(() => undefined);
    await nc.close();
    await proxy.close();
  }
});

runOrSkip(test, 'jetstream account limit: a refused record is never acknowledged');
