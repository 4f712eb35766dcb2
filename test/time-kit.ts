/**
 * A log for seeks by time over damage (test/timestamps.test.ts, test/dedup-rebuild.test.ts): 40 records
 * `r<i>`, one frame each, each frame in a millisecond of its own, so that a time falls between two
 * frames, and an index entry every few frames.
 */
import * as assert from 'uvu/assert';
import { Producer, SyncPolicy } from '../dist/index.js';
import { readIndex } from '../src/segment/offset-index.js';
import { nodeFileIO } from '../src/storage/file-io.js';
import { waitFor } from './kit.js';
import { framesOf, type FrameAt } from './reader-kit.js';

/**
 * Writes that log into `logDir` (`dedupKeys`: record i carries dedup key `k<i>`). Returns its frames
 * and `v`, a frame right after an index entry's frame, neither it nor the next one an entry's: a walk
 * by time from that entry steps onto frame v before it reaches v + 1.
 */
export async function framePerMillisecond(logDir: string, dedupKeys = false): Promise<{ frames: FrameAt[]; v: number }> {
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), indexIntervalBytes: 512, ...(dedupKeys ? { dedupWindow: { records: 100 } } : {}) });
  for (let i = 0; i < 40; i++) {
    p.append(`r${i} ${'p'.repeat(40)}`, dedupKeys ? { dedupKey: `k${i}` } : undefined);
    await p.flush();
    const stamp = framesOf(logDir).at(-1)!.h.timestampMs;
    await waitFor(() => Date.now() > stamp, 'the clock to pass the frame\'s millisecond');
  }
  await p.close();
  const frames = framesOf(logDir);
  const entries = readIndex(nodeFileIO, frames[0]!.path.replace(/\.seg$/, '.idx'), 0, Infinity).offsets;
  const v = entries.find((o) => o >= 15)! + 1;
  assert.ok(v + 1 < 40 && !entries.includes(v) && !entries.includes(v + 1), `entries ${entries.join(',')}`);
  return { frames, v };
}
