// The handler of examples/pool.mjs: runs in a pool worker thread, one call per record.
import { createHash } from 'node:crypto';

export default function handle(msg) {
  // Some CPU work per record: what a pool spreads over the machine's cores.
  createHash('sha256').update(msg.data).digest();
  return 'commit';
}
