export { Producer } from './producer/producer.js';
export { AttachedProducer } from './producer/attached-producer.js';
export type { ProducerToken } from './producer/producer-token.js';
export { RemoteProducer } from './funnel/remote-producer.js';
export type { ConnectOptions, OwnerLimits } from './funnel/client-socket.js';
export { Consumer } from './consumer/consumer.js';
export { SyncPolicy, type ProducerOptions } from './producer/options.js';
export type { DedupWindowOption } from './producer/dedup-window.js';
export type { AppendOptions } from './format/record.js';
export type { ProducerStats } from './writer/writer-stats.js';
export type { RollResult, SealedSegment, SegmentEntry } from './writer/control-port.js';
export { LogError, ErrorCode, isLogError, type LogErrorDetails } from './errors.js';
export {
  Whence, ConsumerStyle, type Message, type Outcome, type Handler, type ProcessContext, type ProcessSummary,
  type ConsumerOptions, type RetryPolicy, type CommitPolicy, type PoolOptions, type DeadLetter, type RecoveryReport,
  type LagThreshold, type CursorLag,
} from './types.js';
export { decodeDeadLetter } from './consumer/dead-letter.js';
export { verifyLog, type VerifyOptions } from './verify/verify-log.js';
export { formatVerifyReport } from './verify/verify-format.js';
export {
  type VerifyReport, type VerifyFinding, type VerifyFindingKind, type VerifySeverity, type SegmentReport, type DamagedRange,
  type CursorReport, type CursorSlotReport,
} from './verify/verify-types.js';
export {
  channels, type RecoveryEvent, type RollEvent, type RetentionEvent, type WriterFailureEvent, type DeadLetterEvent, type LagEvent,
} from './events.js';
export { inspectLog, type LogInfo, type SegmentSummary, type CursorSummary, type LockHolder } from './admin/inspect.js';
export { resetCursor, deleteCursor, type ResetTarget, type ResetCursorOptions, type ResetResult } from './admin/cursor-admin.js';
export { GLOBAL_CURSOR_ID } from './admin/cursor-ids.js';
export { unlockLog, type LockFileReport } from './admin/lock-admin.js';
export { repairLog, type RepairReport, type RepairCut, type RepairAction, type RepairOptions } from './admin/repair.js';
export type { LogBackend, BackendProducer, BackendProducerOptions, BackendProducerStats, BackendConsumerOptions } from './backend/backend-types.js';
