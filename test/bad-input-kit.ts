/** Shared by the bad-input test files: option checks, a small existing log, reading a log back. */
import * as assert from 'uvu/assert';
import { Producer, Consumer, ConsumerStyle, Whence, SyncPolicy, LogError } from '../dist/index.js';
import { tempDir } from './kit.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export type Details = { option?: string; offset?: number; logStartOffset?: number };
export const details = (e: unknown): Details => (e as { details: Details }).details;

/** Checks an ERR_INVALID_OPTION error names `option` in its message and details. */
export function namesOption(err: unknown, option: string, what: string): void {
  assert.ok(err instanceof LogError, `${what}: a LogError`);
  const e = err as LogError;
  assert.is(e.code, 'ERR_INVALID_OPTION', what);
  assert.is(e.name, 'LogError', what);
  assert.is(details(e).option, option, `${what}: details.option (message: ${e.message})`);
  assert.ok(e.message.includes(option), `${what}: message "${e.message}" names ${option}`);
}

/** A closed log with a few records, for checks that an existing log is left untouched. */
export async function existingLog(): Promise<string> {
  const logDir = tempDir();
  const p = await Producer.open({ logDir, syncPolicy: SyncPolicy.always(), fileRollSize: 1024 });
  for (let i = 0; i < 40; i++) p.append(`existing-${i}-${'e'.repeat(i)}`);
  await p.flush();
  await p.close();
  return logDir;
}

export async function readAll(logDir: string): Promise<Array<{ offset: number; text: string }>> {
  const c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(Whence.oldest()) });
  try {
    return [...c.iter()].map((m) => ({ offset: m.offset, text: Buffer.from(m.data).toString() }));
  } finally {
    await c.close();
  }
}
