/**
 * A transactional cursor that never committed stands for "from the oldest record", as locally: when a
 * purge or the stream's limits moved the log's start past it, the next open starts at the oldest
 * record, also when an earlier open created the cursor's entry and closed without committing. A
 * cursor that committed and was passed over still fails with ERR_POSITION_EXPIRED.
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Consumer, ConsumerStyle, Producer, SyncPolicy } from '../dist/index.js';
import { jetstream } from '../dist/jetstream.js';
import { rejectsWith, suite } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream cursor never committed');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

/** Purges `stream` as an operator would, keeping its newest `keep` messages. */
async function purgeKeeping(stream: string, keep: number): Promise<void> {
  const nc = await connect({ servers: server.url });
  try {
    await (await jetstreamManager(nc)).streams.purge(stream, { keep });
  } finally {
    await nc.close();
  }
}

async function handOut(c: Consumer): Promise<string[]> {
  const got: string[] = [];
  await c.nonblockingProcess(null, (m) => { got.push(Buffer.from(m.data).toString()); return 'commit'; });
  return got;
}

test('a cursor created by an earlier open that never committed follows the log start a purge moved', async () => {
  const stream = `never-${process.pid}`;
  const backend = jetstream({ servers: server.url, stream, leaseMs: 5_000 });
  const p = await Producer.open({ backend, syncPolicy: SyncPolicy.never() });
  for (let i = 0; i < 5; i++) p.append(`r${i}`);
  await p.close();
  // Opened and closed without handing anything out: the entries are created at offset 0, never committed.
  await (await Consumer.open({ backend, style: ConsumerStyle.clientTx('idle') })).close();
  await (await Consumer.open({ backend, style: ConsumerStyle.globalTx() })).close();
  // One that committed at offset 1.
  const done = await Consumer.open({ backend, style: ConsumerStyle.clientTx('done') });
  await done.nonblockingProcess(1, () => 'commit');
  await done.close();
  await purgeKeeping(stream, 2); // the log starts at offset 3 now
  for (const style of [ConsumerStyle.clientTx('idle'), ConsumerStyle.globalTx()]) {
    const c = await Consumer.open({ backend, style });
    try {
      assert.equal(await handOut(c), ['r3', 'r4'], `${style.kind}: from the oldest record`);
    } finally {
      await c.close();
    }
  }
  await rejectsWith(Consumer.open({ backend, style: ConsumerStyle.clientTx('done') }), 'ERR_POSITION_EXPIRED');
});

runOrSkip(test, 'jetstream cursor never committed');
