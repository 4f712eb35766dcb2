// better-sqlite3 as its docs recommend for bulk inserts: WAL journal, a prepared INSERT, one
// transaction per batch. always: synchronous=FULL (the WAL is fsynced at every commit); periodic:
// synchronous=NORMAL (in WAL mode the WAL is fsynced only at checkpoints); never: synchronous=OFF.
// better-sqlite3 is synchronous: a commit has returned, so the batch is acknowledged, when send() returns.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCells } from './common.mjs';

const SYNC = { never: 'OFF', periodic: 'NORMAL', always: 'FULL' };

await runCells({
  async open(cell) {
    mkdirSync(cell.dir, { recursive: true });
    const file = join(cell.dir, 'log.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${SYNC[cell.level]}`);
    db.exec('CREATE TABLE log (id INTEGER PRIMARY KEY, data BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO log (data) VALUES (?)');
    const batch = db.transaction((payload, n) => {
      for (let i = 0; i < n; i++) insert.run(payload);
    });
    return {
      send(payload, n) {
        batch(payload, n);
      },
      async settle() {},
      diskBytes: () => statSync(file).size + statSync(`${file}-wal`, { throwIfNoEntry: false })?.size,
      close: async () => db.close(),
    };
  },
});
