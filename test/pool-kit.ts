/** Shared by the pool tests: the test handler module, logs of given records, a guard against hangs. */
import { fileURLToPath } from 'node:url';
import { Producer, SyncPolicy } from '../dist/index.js';
import { tempDir } from './kit.js';

/** The handler module (behaviour chosen by each record's text: see fixtures/pool-handler.mjs). */
export const handler = fileURLToPath(new URL('./fixtures/pool-handler.mjs', import.meta.url));

/** A closed log holding `records`, in 1 MiB segments. */
export async function logOf(records: string[]): Promise<string> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.never(), fileRollSize: 1024 * 1024 });
  for (const r of records) p.append(r);
  await p.flush();
  await p.close();
  return logDir;
}

/** `p`, or 'stuck' after 20 s (a failure guard, not a wait). */
export async function guarded<T>(p: Promise<T>): Promise<T | 'stuck'> {
  let guard: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<'stuck'>((resolve) => { guard = setTimeout(() => resolve('stuck'), 20_000); })]);
  } finally {
    clearTimeout(guard);
  }
}
