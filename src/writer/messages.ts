/**
 * The control-plane messages from the writer thread to its producer handle. Records never travel here,
 * and neither does the end of a clean close: the writer stores CLOSED in shared memory and exits.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorCode, LogErrorDetails } from '../errors.js';
import type { ResolvedProducerOptions } from '../producer/options.js';
import type { SharedLog } from '../ring/layout.js';
import type { RecoveredLog } from '../storage/recovery.js';

export interface WriterWorkerData {
  readonly options: ResolvedProducerOptions;
  readonly shared: SharedLog;
  /** The writer's end of the control port (transferred). */
  readonly controlPort: MessagePort;
}

export type WriterToMain =
  | {
    readonly type: 'ready';
    readonly nextOffset: number;
    readonly truncated: RecoveredLog['truncated'];
    readonly removed: readonly string[];
  }
  | { readonly type: 'failed'; readonly code: ErrorCode; readonly message: string; readonly details: LogErrorDetails }
  | WriterEvent;

/** What the writer did that an operator may want to see: relayed to the diagnostics channels (src/events.ts). */
export type WriterEvent =
  | { readonly type: 'roll'; readonly sealedBaseOffset: number; readonly sealedBytes: number; readonly baseOffset: number }
  | { readonly type: 'retention'; readonly baseOffset: number; readonly endOffset: number; readonly bytes: number; readonly logStartOffset: number };
