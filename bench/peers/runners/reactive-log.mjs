// reactive-log, the same way as the peers: its own child process, one producer per cell. Levels:
// never (counted once written to the segment files), periodic (SyncPolicy.periodic(1000), counted once
// written), always (group commit, counted once flush() resolved: fsynced).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../../../dist/index.js';
import { runCells } from './common.mjs';

const POLICY = { never: () => SyncPolicy.never(), periodic: () => SyncPolicy.periodic(1000), always: () => SyncPolicy.always() };

await runCells({
  async open(cell) {
    const p = await Producer.open({ logDir: cell.dir, syncPolicy: POLICY[cell.level](), maxTotalBytes: null });
    return {
      send(payload, n) {
        for (let i = 0; i < n; i++) p.append(payload);
      },
      async settle() {
        if (cell.level === 'always') {
          await p.flush();
          return;
        }
        const target = p.nextOffset;
        while (p.writtenOffset < target) await new Promise((r) => setImmediate(r));
      },
      diskBytes: () => readdirSync(cell.dir).filter((f) => f.endsWith('.seg')).reduce((a, f) => a + statSync(join(cell.dir, f)).size, 0),
      close: () => p.close(),
    };
  },
  inFlight: 1,
});
