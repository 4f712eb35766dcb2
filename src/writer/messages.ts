/** The control-plane messages between the producer handle and its writer thread. Records never travel here. */
import type { ErrorCode, LogErrorDetails } from '../errors.js';
import type { ResolvedProducerOptions } from '../producer/options.js';
import type { SharedLog } from '../ring/layout.js';
import type { RecoveredLog } from '../storage/recovery.js';

export interface WriterWorkerData {
  readonly options: ResolvedProducerOptions;
  readonly shared: SharedLog;
}

export type WriterToMain =
  | {
    readonly type: 'ready';
    readonly nextOffset: number;
    readonly logStartOffset: number;
    readonly truncated: RecoveredLog['truncated'];
    readonly removed: readonly string[];
  }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly code: ErrorCode; readonly message: string; readonly details: LogErrorDetails };
