/**
 * An owner whose ring is full answers a remote append with ERR_LOG_FULL, then stops reading every
 * connection for LOG_FULL_PAUSE_MS (100 ms) and sends nothing meanwhile. The client's silence bound
 * was connectTimeoutMs plus the owner's appendTimeoutMs only: with connectTimeoutMs 80 and
 * appendTimeoutMs 0 it ended the live owner's connection with ERR_IO during that pause, and every
 * append of the batch was in doubt. The bound now allows for the pause: the appends get their
 * answers (accepted, or ERR_LOG_FULL), none ERR_IO.
 */
import * as assert from 'uvu/assert';
import { Producer } from '../dist/index.js';
import { clearFaults, setFaults } from './faults.js';
import { suite, tempDir } from './kit.js';

const test = suite('funnel: the owner pausing after ERR_LOG_FULL');

test('a full ring (a writer slowed to a write every 300 ms), connectTimeoutMs 80, appendTimeoutMs 0: answers, no ERR_IO', async () => {
  const logDir = tempDir();
  setFaults({ rules: [{ op: 'writev', thread: 'writer', nth: 1, persistent: true, effect: { delayMs: 300 } }] });
  let p: Producer;
  try {
    p = await Producer.open({ logDir, acceptConnections: true, ringBytes: 64 * 1024, appendTimeoutMs: 0 });
  } finally {
    clearFaults();
  }
  const r = await Producer.connect({ logDir, connectTimeoutMs: 80 });
  const codes: Record<string, number> = {};
  try {
    const payload = Buffer.alloc(1000, 0x61);
    for (let round = 0; round < 5; round++) {
      for (const x of await Promise.allSettled(Array.from({ length: 100 }, () => r.append(payload)))) {
        const k = x.status === 'fulfilled' ? 'ok' : String((x.reason as { code?: string }).code);
        codes[k] = (codes[k] ?? 0) + 1;
      }
    }
  } finally {
    r.destroy();
    await p.close().catch(() => undefined);
  }
  assert.ok((codes.ERR_LOG_FULL ?? 0) > 0, `the ring was full: ${JSON.stringify(codes)}`);
  assert.equal(Object.keys(codes).filter((k) => k !== 'ok' && k !== 'ERR_LOG_FULL'), [], JSON.stringify(codes));
});

test.run();
