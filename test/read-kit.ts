/**
 * Helpers of the reader and format tests: what iter() gives over a whole log, the segment files of a
 * directory, and a segment header rewritten to another format version (with a valid checksum).
 */
import { closeSync, openSync, readSync, readdirSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { Consumer, ConsumerStyle, Whence } from '../dist/index.js';

/** What reading `logDir` from `whence` to its end with iter() gives: "<n> records", or the error code. */
export async function iterOutcome(logDir: string, whence = Whence.oldest()): Promise<string> {
  let c: Consumer;
  try {
    c = await Consumer.open({ logDir, style: ConsumerStyle.nonTx(whence) });
  } catch (e) {
    return (e as { code: string }).code;
  }
  try {
    return `${[...c.iter()].length} records`;
  } catch (e) {
    return (e as { code: string }).code;
  } finally {
    await c.close();
  }
}

/** The segment files of `logDir`, oldest first. */
export function segmentFiles(logDir: string): string[] {
  return readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
}

/** Rewrites the format version of the segment header at `path`, with a valid checksum. */
export function setSegmentVersion(path: string, version: number): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(32);
  readSync(fd, b, 0, 32, 0);
  b.writeUInt16LE(version, 4);
  b.writeUInt32LE(crc32(b.subarray(0, 28)), 28);
  writeSync(fd, b, 0, 32, 0);
  closeSync(fd);
}
