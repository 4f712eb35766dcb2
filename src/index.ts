export { Producer, type RecoveryReport } from './producer/producer.js';
export { Consumer, type ConsumerOptions } from './consumer/consumer.js';
export { SyncPolicy, type ProducerOptions } from './options.js';
export { LogError, ErrorCode, type LogErrorDetails } from './errors.js';
export {
  Whence, ConsumerStyle, type Message, type Outcome, type Handler, type ProcessContext, type ProcessSummary,
} from './types.js';
