/**
 * A JetStream record's timestamp is the whole ms below the time the stream stored it, exactly: the
 * server gives that time in ns (a token of the message's reply subject), some 1.8e18 today, past what
 * a double holds exactly (2^53): nats.js's `info.timestampNanos` is the nearest multiple of 256, and
 * for a time within a few hundred ns below a whole ms its floor in ms is the next ms. Such a record
 * read one ms late, and Whence.timestamp at its timestamp started after it (the server, by its own
 * ns, has it before that ms). The message here is shaped as nats.js hands it out (info parsed from
 * the reply subject, timestampNanos as a bigint), without a server.
 */
import * as assert from 'uvu/assert';
import type { JsMsg } from '@nats-io/jetstream';
import { toMessage } from '../src/jetstream/record-codec.js';
import { suite } from './kit.js';

const test = suite('jetstream timestamp nanos');

/** A stored message at stream sequence `seq`, stored at `ns` (the reply subject's token), as nats.js makes it. */
function stored(seq: number, ns: string): JsMsg {
  const reply = `$JS.ACK._.hash.stream.consumer.1.${seq}.${seq}.${ns}.0.random`;
  return {
    seq, data: new Uint8Array([1]), headers: undefined, reply, subject: 'rl.stream',
    info: { streamSequence: seq, timestampNanos: parseInt(ns, 10), pending: 0 },
    timestampNanos: BigInt(ns),
  } as unknown as JsMsg;
}

test('a time within the ns below a whole ms is that ms minus one, as the server has it', () => {
  // Every case: the whole ms below, from the exact ns.
  const cases = ['1796550000000999999', '1796550000000999900', '1796550000000999872', '1796550000003999999', '1796550000001000000', '1796550000001000001', '1796550000000500000', '1796550000000000127'];
  for (const ns of cases) {
    const want = Number(BigInt(ns) / 1_000_000n);
    assert.is(toMessage(stored(7, ns)).timestamp, want, `stored at ${ns} ns`);
  }
});

test('times spread over one ms: each the whole ms below, never the next', () => {
  const base = 1_796_550_000_000n * 1_000_000n;
  for (let sub = 0n; sub < 1_000_000n; sub += 997n) {
    for (const ns of [base + sub, base + 999_999n - (sub % 5000n)]) {
      assert.is(toMessage(stored(1, ns.toString())).timestamp, 1_796_550_000_000, `stored at ${ns} ns`);
    }
  }
});

test.run();
