/** Shared by the bad-input test files: sizes, a LogError's details, option checks, a small existing log, a clean verify. */
import * as assert from 'uvu/assert';
import { LogError, formatVerifyReport, verifyLog } from '../dist/index.js';
import { logOf } from './kit.js';

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

/** The 40 records of existingLog(). */
const EXISTING_RECORDS = Array.from({ length: 40 }, (_, i) => `existing-${i}-${'e'.repeat(i)}`);

/** A closed log with a few records in 1 KiB segments, for checks that an existing log is left untouched. */
export function existingLog(): Promise<string> {
  return logOf(EXISTING_RECORDS, { fileRollSize: KiB });
}

/** verifyLog finds no damage in `logDir`. */
export async function verifiesClean(logDir: string): Promise<void> {
  const r = await verifyLog(logDir);
  assert.is(r.damageCount, 0, formatVerifyReport(r));
}
