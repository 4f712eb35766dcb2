// NATS JetStream (file storage) through nats.js: asynchronous publishes, a batch's acks awaited
// together, a few batches in flight. nats-server 2.9 acknowledges a message once it is in the stream's
// file (written, not fsynced): it has no fsync-before-ack mode, so it runs at the "never" level only.
import { StorageType, connect } from 'nats';
import { runCells } from './common.mjs';

await runCells({
  skip: (cell) => (cell.level === 'never' ? null : `nats-server 2.9 acknowledges before fsync and has no setting to sync before the ack (no ${cell.level} level)`),
  async open(cell, spec) {
    const nc = await connect({ servers: `127.0.0.1:${spec.natsPort}` });
    const jsm = await nc.jetstreamManager();
    const name = `BENCH_${cell.recordBytes}_${cell.level}`;
    const subject = `bench.${cell.recordBytes}.${cell.level}`;
    await jsm.streams.add({ name, subjects: [subject], storage: StorageType.File });
    const js = nc.jetstream();
    return {
      send(payload, n) {
        const acks = new Array(n);
        for (let i = 0; i < n; i++) acks[i] = js.publish(subject, payload);
        return Promise.all(acks);
      },
      async settle() {},
      diskBytes: () => null,
      async close() {
        await jsm.streams.delete(name);
        await nc.drain();
      },
    };
  },
});
