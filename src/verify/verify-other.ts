/** verify's word on the files of a log directory that are neither segments nor indexes. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { isLogFile } from '../storage/log-dir.js';
import { INDEX_SUFFIX, SEGMENT_SUFFIX, parseNewSegmentName } from '../segment/segment-files.js';
import type { Findings } from './verify-findings.js';

/** Files of the log directory that are neither segments nor indexes. */
export function classifyOther(dir: string, name: string, f: Findings): void {
  if (isLogFile(name)) return;
  if (/^producer\.lock\.(\d+\.[0-9a-z]+\.tmp|stale\.\d+\.\d+)$/.test(name)) {
    f.warning('leftover', name, 'left by an interrupted producer lock take-over; the log ignores it');
    return;
  }
  if (/^\d{20}\.idx\.new$/.test(name)) {
    f.warning('leftover', name, 'an index being rebuilt by repair, or left by an interrupted rebuild: the next repair replaces it; the log ignores it');
    return;
  }
  if (parseNewSegmentName(name) !== null) {
    f.warning('leftover', name, 'a segment being created by a roll (renamed into place once its header is written), or left by an interrupted one: recovery removes it; the log ignores it');
    return;
  }
  if (name.endsWith(SEGMENT_SUFFIX) || name.endsWith(INDEX_SUFFIX)) {
    f.warning('foreign-file', name, 'named like a segment or index but not <20 digits>.seg/.idx: the log ignores it');
    return;
  }
  let what = 'file';
  try {
    if (statSync(join(dir, name)).isDirectory()) what = 'folder';
  } catch { /* gone meanwhile */ }
  f.warning('foreign-file', name, `a ${what} the log does not use (it ignores it)`);
}
