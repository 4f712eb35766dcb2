export { Producer, type RecoveryReport } from './producer/producer.js';
export { Consumer } from './consumer/consumer.js';
export { SyncPolicy, type ProducerOptions } from './producer/options.js';
export { LogError, ErrorCode, type LogErrorDetails } from './errors.js';
export {
  Whence, ConsumerStyle, type Message, type Outcome, type Handler, type ProcessContext, type ProcessSummary,
} from './types.js';
export { type ConsumerOptions, type RetryPolicy, type CommitPolicy } from './consumer/consumer-options.js';
export { decodeDeadLetter, type DeadLetter } from './consumer/dead-letter.js';
export { type PoolOptions } from './consumer/pool.js';
export { verifyLog } from './verify/verify-log.js';
export { formatVerifyReport } from './verify/verify-format.js';
export {
  type VerifyReport, type VerifyFinding, type VerifyFindingKind, type VerifySeverity, type SegmentReport, type DamagedRange,
  type CursorReport, type CursorSlotReport,
} from './verify/verify-types.js';
