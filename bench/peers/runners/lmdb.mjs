// lmdb-js as its README recommends for write throughput: asynchronous puts, which lmdb-js gathers
// into one transaction per event-loop turn (its own group commit); keys are increasing integers.
// always: the default (the commit is synced to disk before the put's promise resolves); never:
// noSync (the OS writes the memory map when it likes). lmdb-js has no periodic-sync mode.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { runCells } from './common.mjs';

await runCells({
  skip: (cell) => (cell.level === 'periodic' ? 'lmdb-js has no periodic sync mode (sync per commit, or noSync)' : null),
  async open(cell) {
    mkdirSync(cell.dir, { recursive: true });
    const file = join(cell.dir, 'data.mdb');
    const db = open({ path: file, encoding: 'binary', keyEncoding: 'uint32', noSync: cell.level === 'never', mapSize: 8 * 2 ** 30 });
    let key = 0;
    return {
      send(payload, n) {
        let last;
        for (let i = 0; i < n; i++) last = db.put(++key, payload);
        return last;
      },
      async settle() {
        await db.committed;
        if (cell.level === 'always') await db.flushed;
      },
      diskBytes: () => statSync(file).size,
      close: () => db.close(),
    };
  },
});
