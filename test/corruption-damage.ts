/**
 * Damage for the corruption properties: fast-check arbitraries that describe it, a function that applies
 * it to a pristine log's bytes, and the oracle that says, from the known frame boundaries, what reading
 * and recovery must make of it. The oracle decides whether a frame survived by comparing its bytes with
 * the pristine ones, not by running the engine's checks.
 */
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { idxName, segName, type Pristine, type SegmentLayout } from './corruption-kit.js';

/** Where in a file: anywhere (`any` taken modulo the size), or near a frame start (frame index, delta). */
export type Spot = { readonly any: number } | { readonly frame: number; readonly delta: number };

export type ByteDamage =
  | { readonly kind: 'flip'; readonly seg: number; readonly at: Spot; readonly bit: number }
  | { readonly kind: 'overwrite'; readonly seg: number; readonly at: Spot; readonly bytes: readonly number[] }
  | { readonly kind: 'truncate'; readonly seg: number; readonly at: Spot }
  | { readonly kind: 'append'; readonly seg: number; readonly bytes: readonly number[] }
  /** Appends the first `cut` bytes of one of the segment's own frames: a torn copy. */
  | { readonly kind: 'tornCopy'; readonly seg: number; readonly frame: number; readonly cut: number };

export type FileDamage =
  | { readonly kind: 'deleteSeg'; readonly seg: number }
  | { readonly kind: 'duplicateSeg'; readonly seg: number; readonly as: 'afterEnd' | 'far' | 'inside' }
  | { readonly kind: 'swapSegs'; readonly a: number; readonly b: number }
  | { readonly kind: 'index'; readonly seg: number; readonly how: 'delete' | 'garbage' | 'flip' | 'truncate' | 'swap'; readonly n: number }
  | { readonly kind: 'foreign'; readonly which: 'notes' | 'bak' | 'orphanIdx' | 'tmp' | 'shortName' | 'segDir' }
  | { readonly kind: 'hint'; readonly how: 'delete' | 'garbage' | 'short' };

const spot: fc.Arbitrary<Spot> = fc.oneof(
  fc.record({ any: fc.nat() }),
  fc.record({ frame: fc.nat(), delta: fc.integer({ min: -3, max: 44 }) }),
);
const garbage = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }),
  fc.integer({ min: 1, max: 300 }).map((n) => new Array<number>(n).fill(0)),
);

/** Byte damage to the segment picked by `seg` (reduced modulo the count, or newest only). */
export function byteDamage(seg: fc.Arbitrary<number>): fc.Arbitrary<ByteDamage> {
  return fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), seg, at: spot, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('overwrite' as const), seg, at: spot, bytes: garbage }),
    fc.record({ kind: fc.constant('truncate' as const), seg, at: spot }),
    fc.record({ kind: fc.constant('append' as const), seg, bytes: garbage }),
    fc.record({ kind: fc.constant('tornCopy' as const), seg, frame: fc.nat(), cut: fc.nat() }),
  );
}

export const fileDamage: fc.Arbitrary<FileDamage> = fc.oneof(
  fc.record({ kind: fc.constant('deleteSeg' as const), seg: fc.nat() }),
  fc.record({ kind: fc.constant('duplicateSeg' as const), seg: fc.nat(), as: fc.constantFrom('afterEnd' as const, 'far' as const, 'inside' as const) }),
  fc.record({ kind: fc.constant('swapSegs' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('index' as const), seg: fc.nat(), how: fc.constantFrom('delete' as const, 'garbage' as const, 'flip' as const, 'truncate' as const, 'swap' as const), n: fc.nat() }),
  fc.record({ kind: fc.constant('foreign' as const), which: fc.constantFrom('notes' as const, 'bak' as const, 'orphanIdx' as const, 'tmp' as const, 'shortName' as const, 'segDir' as const) }),
  fc.record({ kind: fc.constant('hint' as const), how: fc.constantFrom('delete' as const, 'garbage' as const, 'short' as const) }),
);

function resolveSpot(s: Spot, seg: SegmentLayout, size: number): number {
  if ('any' in s) return size === 0 ? 0 : s.any % size;
  const f = seg.frames.length === 0 ? 32 : seg.frames[s.frame % seg.frames.length]!.pos;
  return Math.max(0, Math.min(size === 0 ? 0 : size - 1, f + s.delta));
}

/** Applies byte damage to copies of the segments' bytes; returns the damaged bytes by segment index. */
export function applyBytes(p: Pristine, damage: readonly ByteDamage[]): Buffer[] {
  const segs = p.segments.map((s) => Buffer.from(p.files.get(s.name)!));
  for (const d of damage) {
    const i = d.seg % segs.length;
    const layout = p.segments[i]!;
    const b = segs[i]!;
    switch (d.kind) {
      case 'flip': {
        if (b.length === 0) break;
        const at = resolveSpot(d.at, layout, b.length);
        b[at]! ^= 1 << d.bit;
        break;
      }
      case 'overwrite': {
        const at = resolveSpot(d.at, layout, b.length);
        for (let k = 0; k < d.bytes.length && at + k < b.length; k++) b[at + k] = d.bytes[k]!;
        break;
      }
      case 'truncate':
        segs[i] = b.subarray(0, resolveSpot(d.at, layout, b.length));
        break;
      case 'append':
        segs[i] = Buffer.concat([b, Buffer.from(d.bytes)]);
        break;
      case 'tornCopy': {
        if (layout.frames.length === 0) break;
        const f = layout.frames[d.frame % layout.frames.length]!;
        const cut = 1 + (d.cut % (f.bytes - 1));
        const src = p.files.get(layout.name)!;
        segs[i] = Buffer.concat([b, src.subarray(f.pos, f.pos + cut)]);
        break;
      }
    }
  }
  return segs;
}

/** The file map with the damaged segments in place. */
export function withSegments(p: Pristine, segs: readonly Buffer[]): Map<string, Buffer> {
  const files = new Map(p.files);
  p.segments.forEach((s, i) => files.set(s.name, segs[i]!));
  return files;
}

/**
 * Applies file-level damage to a file map. Returns the names of files that became directories (they
 * are created by the caller) in `dirs`.
 */
export function applyFiles(p: Pristine, files: Map<string, Buffer>, damage: readonly FileDamage[], dirs: string[]): void {
  const n = p.segments.length;
  const seg = (k: number): SegmentLayout => p.segments[k % n]!;
  for (const d of damage) {
    switch (d.kind) {
      case 'deleteSeg':
        files.delete(seg(d.seg).name);
        files.delete(idxName(seg(d.seg).base));
        break;
      case 'duplicateSeg': {
        const s = seg(d.seg);
        const bytes = files.get(s.name);
        if (bytes === undefined) break;
        const last = p.segments[n - 1]!;
        const base = d.as === 'afterEnd' ? last.end : d.as === 'far' ? last.end + 1000 : s.base + 1;
        if (base !== s.base) files.set(segName(base), bytes);
        break;
      }
      case 'swapSegs': {
        const a = seg(d.a).name;
        const b = seg(d.b).name;
        const ab = files.get(a);
        const bb = files.get(b);
        if (ab === undefined || bb === undefined) break;
        files.set(a, bb);
        files.set(b, ab);
        break;
      }
      case 'index': {
        const name = idxName(seg(d.seg).base);
        const cur = files.get(name);
        if (d.how === 'delete') files.delete(name);
        else if (d.how === 'garbage') files.set(name, Buffer.from(Array.from({ length: 16 + (d.n % 40) }, (_, k) => (d.n * 31 + k * 17) & 0xff)));
        else if (cur !== undefined && cur.length > 0) {
          if (d.how === 'flip') {
            const b = Buffer.from(cur);
            b[d.n % b.length]! ^= 1 << (d.n % 8);
            files.set(name, b);
          } else if (d.how === 'truncate') {
            files.set(name, cur.subarray(0, d.n % cur.length));
          } else {
            const other = idxName(seg(d.seg + 1 + (d.n % Math.max(1, n - 1))).base);
            const ob = files.get(other);
            if (ob !== undefined) {
              files.set(name, ob);
              files.set(other, cur);
            }
          }
        }
        break;
      }
      case 'foreign': {
        const first = p.segments[0]!;
        if (d.which === 'notes') files.set('notes.txt', Buffer.from('an operator left this here\n'));
        else if (d.which === 'bak') files.set(`${first.name}.bak`, files.get(first.name) ?? Buffer.alloc(0));
        else if (d.which === 'orphanIdx') files.set(idxName(p.segments[n - 1]!.end + 7), Buffer.alloc(32, 0xee));
        else if (d.which === 'tmp') files.set(`${segName(p.segments[n - 1]!.end)}.tmp`, Buffer.alloc(100, 1));
        else if (d.which === 'shortName') files.set('123.seg', files.get(first.name) ?? Buffer.alloc(0));
        else dirs.push(segName(p.segments[n - 1]!.end + 5000));
        break;
      }
      case 'hint':
        if (d.how === 'delete') files.delete('durable.offset');
        else if (d.how === 'garbage') files.set('durable.offset', Buffer.from('garbage bytes'));
        else files.set('durable.offset', Buffer.alloc(5));
        break;
    }
  }
}

/** A frame starting at `at` in `b` that is whole and valid by the format's rules (the oracle's own check, format 2). */
export function validFrameAt(b: Buffer, at: number): { dp: number } | null {
  if (at + 48 > b.length || b.readUInt32LE(at) !== 0x48435242) return null;
  const size = b.readUInt32LE(at + 8);
  const count = b.readUInt32LE(at + 12);
  if (size < 48 || at + size > b.length || count === 0 || count > (size - 44) / 4) return null;
  if (b.readUInt32LE(at + size - 4) !== size) return null;
  if (crc32(b.subarray(at + 8, at + size - 4)) !== b.readUInt32LE(at + 4)) return null;
  let q = at + 40;
  for (let i = 0; i < count; i++) {
    if (q + 4 > at + size - 4) return null;
    q += 4 + (b.readUInt32LE(q) & 0x7fffffff); // bits 0-30: the payload's length (bit 31 flags an attribute block)
  }
  if (q !== at + size - 4) return null;
  return { dp: Number(b.readBigUInt64LE(at + 32)) };
}

/** Whether some valid frame starts after `from` (with a durable position above `dpAbove` and not past its own start, if given). */
export function validFrameAfter(b: Buffer, from: number, dpAbove: number | null): boolean {
  for (let at = from + 1; at + 48 <= b.length; at++) {
    const f = validFrameAt(b, at);
    // As recovery and the readers judge (src/storage/frame-scan.ts): a frame proves bytes durable only
    // when its durable position lies past `dpAbove` and not past its own start (a frame that claims
    // more is not this file's: a copy of a later frame, or a frame inside a record's payload).
    if (f !== null && (dpAbove === null || (f.dp > dpAbove && f.dp <= at))) return true;
  }
  return false;
}

/** How one damaged segment compares with its pristine layout. */
export interface SegmentVerdict {
  readonly headerIntact: boolean;
  /** End position and end offset of the longest prefix of intact frames. */
  readonly prefixPos: number;
  readonly prefixEnd: number;
  /** Bytes follow that prefix (damage, or a cut that kept a partial frame, or an appended tail). */
  readonly extra: boolean;
  /** The prefix is shorter than the pristine segment. */
  readonly lost: boolean;
}

export function judgeSegment(layout: SegmentLayout, pristine: Buffer, d: Buffer): SegmentVerdict {
  const headerIntact = d.length >= 32 && d.subarray(0, 32).equals(pristine.subarray(0, 32));
  let pos = 32;
  let end = layout.base;
  for (const f of layout.frames) {
    if (d.length < f.pos + f.bytes || !d.subarray(f.pos, f.pos + f.bytes).equals(pristine.subarray(f.pos, f.pos + f.bytes))) break;
    pos = f.pos + f.bytes;
    end = f.base + f.count;
  }
  return { headerIntact, prefixPos: pos, prefixEnd: end, extra: d.length > pos, lost: end < layout.end };
}

export interface ReadExpectation {
  /** Records [start, count) are delivered. */
  readonly count: number;
  readonly outcome: 'end' | 'corrupt';
}

/**
 * What a reader in a process without a producer must make of byte damage to segments: every record
 * before the first damaged frame, then ERR_LOG_CORRUPT if the damage is in a sealed segment or proven
 * durable in the newest one (a valid frame after it with a durable position above it, or a damaged
 * header followed by valid frames or below durable.offset), else a clean end (it may be a torn tail
 * still to be cut).
 */
/** `hint`: the durable offset the directory's durable.offset file holds (null: none a reader can use); the pristine log's by default. */
export function expectRead(p: Pristine, segs: readonly Buffer[], hint: number | null = p.hint): ReadExpectation {
  for (let i = 0; i < p.segments.length; i++) {
    const layout = p.segments[i]!;
    const d = segs[i]!;
    const v = judgeSegment(layout, p.files.get(layout.name)!, d);
    const sealed = i < p.segments.length - 1;
    if (!v.headerIntact) {
      // The newest segment's header counts as a roll a crash left unfinished only while no valid frame
      // follows it and durable.offset names no record from its base on.
      if (sealed || validFrameAfter(d, -1, null) || (hint !== null && layout.base < hint)) return { count: layout.base, outcome: 'corrupt' };
      return { count: layout.base, outcome: 'end' };
    }
    if (!v.lost && !v.extra) continue;
    if (sealed) return { count: v.prefixEnd, outcome: 'corrupt' };
    // In the newest segment, damage is a torn tail (the end) unless records at it were reported
    // durable (durable.offset past it, as recovery judges) or a valid frame after it proves it.
    const durableLost = v.lost && hint !== null && v.prefixEnd < hint;
    return { count: v.prefixEnd, outcome: durableLost || (v.extra && validFrameAfter(d, v.prefixPos, v.prefixPos)) ? 'corrupt' : 'end' };
  }
  return { count: p.segments.at(-1)!.end, outcome: 'end' };
}
