// Redis streams through ioredis: XADD pipelined, one pipeline per batch, a few pipelines in flight.
// The server runs with appendonly yes; the level sets appendfsync: always (Redis fsyncs the AOF before
// it answers the commands of an event-loop turn: its group commit), everysec (periodic), no (never).
// A batch is acknowledged when every reply of its pipeline has arrived.
import Redis from 'ioredis';
import { runCells } from './common.mjs';

const FSYNC = { never: 'no', periodic: 'everysec', always: 'always' };

await runCells({
  async open(cell, spec) {
    const r = new Redis({ host: '127.0.0.1', port: spec.redisPort, lazyConnect: true, maxRetriesPerRequest: 0 });
    await r.connect();
    await r.config('SET', 'appendfsync', FSYNC[cell.level]);
    const key = `bench-${cell.recordBytes}-${cell.level}`;
    await r.del(key);
    return {
      send(payload, n) {
        const p = r.pipeline();
        for (let i = 0; i < n; i++) p.xadd(key, '*', 'd', payload);
        return p.exec().then((res) => {
          for (const [err] of res) if (err) throw err;
        });
      },
      async settle() {},
      diskBytes: () => null,
      async close() {
        await r.del(key);
        r.disconnect();
      },
    };
  },
});
