/**
 * The account's JetStream storage limit (its `max_file`) is checked by nats-server (2.9) after it
 * stored the record: it removes the record again, answers "resource limits exceeded for account"
 * (10002), and the stream's last sequence stays past the record's slot. A smaller record published
 * after it, carrying the refused record's sequence as its expected last one, fits and is stored past
 * the hole. Before the fix the producer's ERR_DISK_FULL said "none from it on" are stored (and the
 * docs: the records after it "cannot land without it"), so an application appending them again
 * doubled the ones already stored. The error now says which offsets may be stored past it.
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

const test = suite('jetstream account limit: records stored past a refused one are not said unstored');
test.after(stopAllNats);

test('a large record refused for the account\'s limit, a small one after it stored: the error does not say none from it on is stored', async () => {
  const own = await startAccountLimitedNats();
  const stream = 'acct-after';
  const nc = await connect({ servers: own.url });
  const jsm = await jetstreamManager(nc);
  const p = await Producer.open({ backend: jetstream({ servers: own.url, stream, leaseMs: 30_000, timeoutMs: 3_000 }), syncPolicy: SyncPolicy.never() });
  try {
    await fillAccount(p, jsm); // room for one more record of 500 B, not two
    const j = p.nextOffset;
    p.append(Buffer.alloc(8_000, 2)); // j: past the account's limit, stored and removed again
    p.append('small'); // j + 1: fits, published before the refusal came back
    const error = await within(p.flush().then(() => null, (e: { code?: string; message?: string }) => e), 15_000, 'the flush');
    assert.ok(error !== null, 'the flush rejects');
    assert.is(error.code, 'ERR_DISK_FULL');
    assert.is(p.durableOffset, j, 'the refused record is not acknowledged');
    const state = (await jsm.streams.info(stream)).state;
    const stored = await jsm.streams.getMessage(stream, { seq: j + 2 }).then((m) => m !== null, () => false);
    assert.ok(stored, `record ${j + 1} is stored past the refused one (last sequence ${state.last_seq})`);
    assert.not.match(error.message ?? '', /none from it on/, `record ${j + 1} is stored, the error says: ${error.message}`);
    assert.match(error.message ?? '', new RegExp(`from offset ${j + 1} to ${j + 1}[,. ].*may or may not be stored`), `the error names offset ${j + 1} as maybe stored: ${error.message}`);
  } finally {
    await p.destroy().catch(() => undefined);
    await nc.close();
  }
});

runOrSkip(test, 'jetstream account limit: records stored past a refused one are not said unstored');
