/**
 * A log whose torn tail is a record holding a whole segment file of another log (an archive: its
 * header and its frames, each frame stored at or past the position it had in its own file, so its
 * durable position lies at or before its own start here). Its frames are stamped before the log's
 * last valid frame: they prove nothing about the torn bytes (recovery-archived-segment,
 * reader-archived-segment).
 */
import { readFileSync, readdirSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Producer, SyncPolicy } from '../dist/index.js';
import { encodeDurableHint } from '../src/storage/durable-hint.js';
import { tempDir, waitFor } from './kit.js';

/** The path of the one segment file of `dir`. */
export function onlySegment(dir: string): string {
  return join(dir, readdirSync(dir).find((n) => n.endsWith('.seg'))!);
}

/** The whole segment file of a log of 20 records, each flushed on its own (durable position = own position). */
export async function archivedSegment(): Promise<Buffer> {
  const dir = tempDir();
  const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.always() });
  for (let i = 0; i < 20; i++) { p.append(`archived record ${i} ${'y'.repeat(50)}`); await p.flush(); }
  await p.close();
  const t = Date.now();
  await waitFor(() => Date.now() > t, 'the clock passes the archived frames');
  return readFileSync(onlySegment(dir));
}

/** The path of the newest segment file of `dir`. */
export function newestSegment(dir: string): string {
  return join(dir, readdirSync(dir).filter((n) => n.endsWith('.seg')).sort().at(-1)!);
}

/**
 * A log of one flushed record, then `payload` as a second record whose frame is torn (its last 2 bytes
 * never landed; durable.offset says 1). With `afterRoll`, the producer rolls between the two: the torn
 * frame is the first of the newest segment. Without `first`, the torn record is the log's first
 * (durable.offset says 0).
 */
export async function tornTailCarrying(payload: Buffer, afterRoll = false, first = true): Promise<string> {
  const dir = tempDir();
  const p = await Producer.open({ logDir: dir, syncPolicy: SyncPolicy.always() });
  if (first) {
    p.append('first');
    await p.flush();
  }
  if (afterRoll) await p.roll();
  p.append(payload);
  await p.flush();
  await p.close();
  const seg = newestSegment(dir);
  truncateSync(seg, statSync(seg).size - 2);
  writeFileSync(join(dir, 'durable.offset'), encodeDurableHint(first ? 1 : 0));
  return dir;
}
