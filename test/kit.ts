/** Shared by the test files that read whole logs: the records of a log as text, oldest first. */
import { Consumer, ConsumerStyle, Whence } from '../dist/index.js';

/** Every record still stored in `logDir`, decoded as UTF-8, read by a nonTx consumer from the oldest. */
export async function readTexts(logDir: string): Promise<string[]> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...c.iter()].map((m) => Buffer.from(m.data).toString());
  } finally {
    await c.close();
  }
}
