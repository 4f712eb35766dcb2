/** The findings a verify run collects: each check pushes its damage and warnings here. */
import type { VerifyFinding } from './verify-types.js';

/** Where a finding lies: a byte position in its file, a record offset, or both. */
interface FindingAt {
  /** The byte position in the file. */
  readonly position?: number;
  /** The record offset. */
  readonly offset?: number;
}

/** Collects findings; the per-area checks push into it. */
export class Findings {
  /** Every finding, in the order found. */
  readonly list: VerifyFinding[] = [];

  /** Damage: bytes the log promised and does not hold. */
  damage(kind: VerifyFinding['kind'], file: string, message: string, at: FindingAt = {}): void {
    this.list.push({ severity: 'damage', kind, file, position: at.position ?? null, offset: at.offset ?? null, message });
  }

  /** A warning: something a crash, a live producer or a foreign hand left, which the log copes with. */
  warning(kind: VerifyFinding['kind'], file: string, message: string, at: FindingAt = {}): void {
    this.list.push({ severity: 'warning', kind, file, position: at.position ?? null, offset: at.offset ?? null, message });
  }
}
