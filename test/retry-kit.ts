/**
 * For the retry tests: a log of `texts` processed once by a clientTx consumer with maxAttempts 2 and
 * retryOnThrow, by a handler function or by a pool of one thread running the same handler's module,
 * and what came of it: the call's summary (or the rejection's code and message) and the dead letters
 * as [offset, attempts, lastError] ([-1, -1, message] when the dead-letter log cannot be read).
 */
import { Consumer, ConsumerStyle, Whence, decodeDeadLetter, type Handler, type ProcessSummary } from '../dist/index.js';
import { logOf, tempDir } from './kit.js';

export interface RetriedRun {
  summary: ProcessSummary | string;
  dead: Array<[number, number, string | null]>;
}

export async function retriedRun(texts: string[], handler: Handler, handlerFile: string, pool: boolean): Promise<RetriedRun> {
  const logDir = await logOf(texts);
  const deadLetterDir = `${tempDir()}/dl`;
  const c = await Consumer.open({ logDir, style: ConsumerStyle.clientTx('r'), retry: { maxAttempts: 2, retryOnThrow: true, deadLetterDir } });
  let summary: ProcessSummary | string;
  try {
    summary = await (pool ? c.nonblockingProcess(null, handlerFile, { workers: 1 }) : c.nonblockingProcess(null, handler));
  } catch (e) {
    summary = `rejected: ${(e as { code?: string }).code} ${(e as Error).message}`;
  } finally {
    await c.close();
  }
  try {
    const d = await Consumer.open({ logDir: deadLetterDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
    try {
      return { summary, dead: [...d.iter()].map((m) => { const l = decodeDeadLetter(m.data); return [l.offset, l.attempts, l.lastError]; }) };
    } finally {
      await d.close();
    }
  } catch (e) {
    return { summary, dead: [[-1, -1, (e as Error).message]] };
  }
}
