/** The text the `reactive-log verify` command prints for a `VerifyReport`. */
import { printable as esc } from '../printable.js';
import type { CursorReport, CursorSlotReport, SegmentReport, VerifyFinding, VerifyReport } from './verify-types.js';

const n = (x: number): string => x.toLocaleString('en-US');

function offsets(from: number, end: number): string {
  return end > from ? `offsets ${n(from)}-${n(end - 1)}` : `no records (at ${n(from)})`;
}

function segmentLine(s: SegmentReport): string {
  const parts = [esc(s.file), s.role.padEnd(6), offsets(s.baseOffset, s.endOffset).padEnd(24),
    `${n(s.records)} records in ${n(s.frames)} frames`, `${n(s.bytes)} bytes`];
  const ix = s.index;
  if (!ix.present) parts.push('no index');
  else parts.push(`index ${ix.good}/${ix.entries} ok${ix.unchecked > 0 ? ` (${ix.unchecked} past the bytes read)` : ''}`);
  if (s.headerProblem !== null) parts.push(`HEADER: ${esc(s.headerProblem)}`);
  for (const d of s.damaged) {
    parts.push(d.tornTail ? `torn tail: ${n(d.bytes)} bytes at byte ${n(d.position)}` : `DAMAGED: ${n(d.bytes)} bytes at byte ${n(d.position)}`);
  }
  return `  ${parts.join('  ')}`;
}

function slot(name: string, s: CursorSlotReport): string {
  if (s.state !== 'valid') return `slot ${name} ${s.state}`;
  return `slot ${name} seq ${n(s.sequence!)} offset ${n(s.offset!)}${s.stateBytes !== null ? ` state ${n(s.stateBytes)} B` : ''}`;
}

function cursorLine(c: CursorReport): string {
  const at = c.offset === null ? 'NO VALID SLOT' : `offset ${n(c.offset)} (slot ${c.current})`;
  return `  ${esc(c.file)}  ${at}  [${slot('A', c.slotA)}; ${slot('B', c.slotB)}]${c.locked ? '  held by a live consumer' : ''}`;
}

function findingLine(x: VerifyFinding): string {
  const where = [esc(x.file), x.position !== null ? `byte ${n(x.position)}` : null, x.offset !== null ? `offset ${n(x.offset)}` : null]
    .filter((p) => p !== null).join(' ');
  return `  ${x.severity === 'damage' ? 'DAMAGE ' : 'warning'}  ${x.kind}  ${where}: ${esc(x.message)}`;
}

/**
 * A readable multi-line report of {@link verifyLog}'s result, as `reactive-log verify` prints it:
 * summary, one line per segment and cursor, then every finding. Control characters in the names and
 * messages it holds (a file named with a terminal escape sequence) are printed as `\u` escapes.
 */
export function formatVerifyReport(r: VerifyReport): string {
  const out: string[] = [`reactive-log verify ${esc(r.dir)}`];
  const totalBytes = r.segments.reduce((a, s) => a + s.bytes, 0);
  out.push(r.logStartOffset === null ? '  log: no segments'
    : `  log: ${offsets(r.logStartOffset, r.logEndOffset!)}, ${n(r.records)} records in ${r.segments.length} segments, ${n(totalBytes)} bytes`);
  const lock = r.producerLock;
  out.push(`  producer: ${lock === null ? 'none (no producer.lock)' : lock.live ? `running, pid ${lock.ownerPid} (its newest bytes may still be in flight)` : `not running (stale lock of pid ${lock.ownerPid})`}`);
  out.push(`  durable.offset: ${r.durableHint.state === 'valid' ? n(r.durableHint.offset!) : r.durableHint.state}`);
  if (r.segments.length > 0) out.push('segments', ...r.segments.map(segmentLine));
  out.push(r.cursors.length > 0 ? 'cursors' : 'cursors: none', ...r.cursors.map(cursorLine));
  if (r.findings.length > 0) out.push('findings', ...r.findings.map(findingLine));
  out.push(r.ok
    ? `result: OK, no damage${r.warningCount > 0 ? ` (${r.warningCount} warning${r.warningCount === 1 ? '' : 's'})` : ''}`
    : `result: DAMAGED, ${r.damageCount} damage finding${r.damageCount === 1 ? '' : 's'}, ${r.warningCount} warning${r.warningCount === 1 ? '' : 's'}`);
  return `${out.join('\n')}\n`;
}
