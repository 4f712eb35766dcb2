/**
 * verify's checks of the cursor files: every file in `cursors/`, both slots of each against each
 * other, and each cursor against the log's range.
 */
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { validateConsumerId } from '../consumer/consumer-options.js';
import { SLOT_BYTES, currentSlot, readCursorSlots, type CursorValue } from '../cursor/cursor-file.js';
import { CURSOR_DIR, CURSOR_SUFFIX } from '../cursor/tx-cursor.js';
import { isUnsupportedFormat } from '../errors.js';
import type { FileIO } from '../storage/file-io.js';
import { lockOwner } from '../storage/lock.js';
import type { Findings } from './verify-findings.js';
import type { CursorReport, CursorSlotReport } from './verify-types.js';

/** One cursor file as verify read it. */
export interface CursorRead {
  /** What the report says of the file. */
  readonly report: CursorReport;
  /** The value of the current slot, or null when unreadable. */
  readonly value: CursorValue | null;
}

function slotReport(v: CursorValue | null, unused: boolean): CursorSlotReport {
  if (v !== null) return { state: 'valid', sequence: v.sequence, offset: v.offset, stateBytes: v.state?.byteLength ?? null };
  return { state: unused ? 'unused' : 'invalid', sequence: null, offset: null, stateBytes: null };
}

/** Reads every cursor file in `cursors/` and checks its two slots against each other. */
export function readCursors(io: FileIO, dir: string, f: Findings): CursorRead[] {
  const cdir = join(dir, CURSOR_DIR);
  let names: string[];
  try {
    names = io.readdir(cdir).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') {
      // A file or a FIFO there: no transactional consumer opens the log, and repairLog cannot list its cursors.
      f.damage('unreadable', CURSOR_DIR, 'not a folder (a file, a FIFO, …) where the log keeps its cursors: a transactional Consumer.open fails, and repair refuses the log (it cannot list the cursors)');
    } else {
      f.warning('foreign-file', CURSOR_DIR, `not a readable folder (${code ?? String(e)}): transactional consumers cannot use it`);
    }
    return [];
  }
  const out: CursorRead[] = [];
  for (const name of names) {
    const file = `${CURSOR_DIR}/${name}`;
    const stem = name.endsWith(CURSOR_SUFFIX) ? name.slice(0, -CURSOR_SUFFIX.length) : null;
    if (stem === null || !isCursorName(stem)) {
      if (/\.cursor\.new$|\.lock\.(\d+\.[0-9a-z]+\.tmp|stale\.\d+\.\d+)$/.test(name)) {
        f.warning('leftover', file, 'left by an interrupted cursor creation or lock take-over; consumers ignore it');
      } else if (!(name.endsWith('.lock') && isCursorName(name.slice(0, -'.lock'.length)))) {
        f.warning('foreign-file', file, 'not a cursor or cursor lock file: no consumer owns it, and retention does not count it');
      } else {
        // A lock is never opened through a symbolic link, and a folder or a FIFO is no lock file (lock.ts).
        const what = notAFile(join(cdir, name));
        if (what !== null) f.damage('unreadable', file, `${what}, not a regular file, where the cursor's lock file goes: Consumer.open of that cursor refuses the log (ERR_LOG_CORRUPT)`);
      }
      continue;
    }
    let slots;
    try {
      slots = readCursorSlots(io, join(cdir, name), name);
    } catch (e) {
      if (isUnsupportedFormat(e)) {
        // As for a segment of a newer format (verify-log.ts): not checked, reported, and the report is not ok.
        f.damage('cursor', file, 'a slot names a newer format than this reactive-log reads (flag bits it does not know): written by a newer reactive-log, which this one cannot check: verify it with a newer reactive-log (Consumer.open refuses it with ERR_UNSUPPORTED_FORMAT)');
      } else {
        f.damage('unreadable', file, (e as Error).message);
      }
      continue;
    }
    if (slots === null) continue; // deleted meanwhile
    const current = currentSlot(slots);
    const value = current === 'A' ? slots.a : current === 'B' ? slots.b : null;
    checkSlots(file, slots.a, slots.b, slots.aUnused, slots.bUnused, slots.bytes, f);
    out.push({
      value,
      report: {
        file, name: stem,
        slotA: slotReport(slots.a, slots.aUnused),
        slotB: slotReport(slots.b, slots.bUnused),
        current,
        offset: value?.offset ?? null,
        locked: lockOwner(io, join(cdir, `${stem}.lock`))?.live === true,
      },
    });
  }
  return out;
}

/** What is at `path` when it is not a regular file (a symbolic link is not followed); null for a file, or nothing there. */
function notAFile(path: string): string | null {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return null; // gone meanwhile (a consumer's close removes its lock file)
  }
  if (st.isFile()) return null;
  return st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO' : 'something else';
}

function isCursorName(stem: string): boolean {
  if (stem === 'global') return true;
  if (!stem.startsWith('client.')) return false;
  try {
    validateConsumerId(stem.slice('client.'.length));
    return true;
  } catch {
    return false;
  }
}

function checkSlots(file: string, a: CursorValue | null, b: CursorValue | null, aUnused: boolean, bUnused: boolean, bytes: number, f: Findings): void {
  if (a === null && b === null) {
    f.damage('cursor', file, `no valid slot in ${bytes} bytes: the cursor is lost (Consumer.open fails with ERR_LOG_CORRUPT)`, { position: 0 });
    return;
  }
  // Sequence n is written to slot n % 2: A holds even sequences, B odd ones.
  if (a !== null && a.sequence % 2 !== 0) f.damage('cursor', file, `slot A holds sequence ${a.sequence}, but odd sequences are written to slot B`, { position: 0 });
  if (b !== null && b.sequence % 2 !== 1) f.damage('cursor', file, `slot B holds sequence ${b.sequence}, but even sequences are written to slot A`, { position: SLOT_BYTES });
  if (a !== null && b !== null) {
    const [older, newer] = a.sequence < b.sequence ? [a, b] : [b, a];
    if (newer.sequence - older.sequence !== 1) {
      f.damage('cursor', file, `the slots hold sequences ${a.sequence} (A) and ${b.sequence} (B); commits alternate, so they differ by exactly 1`);
    } else if (newer.offset < older.offset) {
      f.damage('cursor', file, `the newer slot (sequence ${newer.sequence}) holds offset ${newer.offset}, below the older one's ${older.offset}: a cursor never moves backwards`);
    }
    return;
  }
  const valid = (a ?? b)!;
  const [otherName, otherUnused] = a === null ? ['A', aUnused] : ['B', bUnused];
  if (!otherUnused) {
    f.warning('cursor', file, `slot ${otherName} is damaged or was torn by an interrupted commit; the other slot holds the cursor (sequence ${valid.sequence}, offset ${valid.offset})`);
  } else if (valid.sequence !== 1) {
    f.warning('cursor', file, `slot ${otherName} is all zeros although the cursor has committed (sequence ${valid.sequence}); it should hold the previous commit`);
  }
}

/** `end`: the log's end, 0 for a log without segments, or undefined when it is not known. */
export function checkCursorRange(c: CursorRead, start: number | null, end: number | undefined, f: Findings): void {
  const v = c.value;
  if (v === null) return;
  if (end !== undefined && v.offset > end) {
    f.damage('cursor', c.report.file, `points at offset ${v.offset}, past the end of the log (${end}): it committed records that are gone (Consumer.open fails with ERR_LOG_CORRUPT)`, { offset: v.offset });
  } else if (start !== null && v.offset < start && v.sequence > 1) {
    f.warning('cursor', c.report.file, `points at offset ${v.offset}, below the log start (${start}): retention deleted records it had not committed (Consumer.open fails with ERR_POSITION_EXPIRED)`, { offset: v.offset });
  }
}
