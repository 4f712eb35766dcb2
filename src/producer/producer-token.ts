/**
 * What `producer.share()` gives and `Producer.attach(token)` takes: the log's shared memory and the
 * options an attached handle needs, as a structured-cloneable object (postMessage it to a worker
 * thread of the same process; the SharedArrayBuffers arrive shared, not copied).
 */
import { LogError } from '../errors.js';
import { CONTROL_BYTES, CONTROL_I32_SLOTS, CONTROL_I64_SLOTS, CONTROL_LAYOUT_VERSION, I32, I64, type SharedLog } from '../ring/layout.js';
import { isRing, ringIdOf, ringSize } from '../ring/ring-memory.js';
import { describe } from '../validate.js';
import { MAX_APPEND_TIMEOUT_MS } from './options.js';

/** Names the token and the layout of the shared memory it carries: a token of another layout is refused. */
export const PRODUCER_TOKEN_TYPE = `reactive-log.producer-token.layout-${CONTROL_LAYOUT_VERSION}`;

/**
 * What {@link Producer.share} returns and {@link Producer.attach} takes: a structured-cloneable object
 * holding the log's shared memory. Post it to a worker thread of the same process unchanged (its
 * SharedArrayBuffers arrive shared, not copied); its fields are not meant to be read or changed.
 */
export interface ProducerToken {
  /** Names the token and the layout of its shared memory; a token of another layout is refused. */
  readonly type: string;
  /** The producer's control block (offsets, state, the append lock). */
  readonly control: SharedArrayBuffer;
  /** The ring that appends copy records into. */
  readonly ring: SharedArrayBuffer;
  /** The writer's counters. */
  readonly stats?: SharedArrayBuffer | undefined;
  /** The log directory (its real path). */
  readonly logDir: string;
  /** The producer's `maxRecordBytes`. */
  readonly maxRecordBytes: number;
  /** The producer's `appendTimeoutMs`. */
  readonly appendTimeoutMs: number;
}

/** The token of a producer with this shared memory and these options. */
export function makeToken(shared: SharedLog, options: Pick<ProducerToken, 'logDir' | 'maxRecordBytes' | 'appendTimeoutMs'>): ProducerToken {
  const { control, ring, stats } = shared;
  const { logDir, maxRecordBytes, appendTimeoutMs } = options;
  return { type: PRODUCER_TOKEN_TYPE, control, ring, stats, logDir, maxRecordBytes, appendTimeoutMs };
}

/** `token` as a ProducerToken, or ERR_INVALID_OPTION naming what is wrong with it. */
export function checkToken(token: unknown): ProducerToken {
  const bad = (why: string): LogError => LogError.invalidOption('token', `Producer.attach takes what producer.share() returned: ${why}`);
  if (typeof token !== 'object' || token === null) throw bad(`got ${describe(token)}`);
  const t = token as Partial<ProducerToken>;
  if (t.type !== PRODUCER_TOKEN_TYPE) {
    throw bad(typeof t.type === 'string' && t.type.startsWith('reactive-log.producer-token') ? `its type ${t.type} is of another version of reactive-log (this one takes ${PRODUCER_TOKEN_TYPE})` : 'its type is missing or unknown');
  }
  if (!(t.control instanceof SharedArrayBuffer) || t.control.byteLength !== CONTROL_BYTES) throw bad('its control block is not a SharedArrayBuffer of the right size');
  // A buffer of another size is no ring of this layout (src/ring/ring-memory.ts): its handle's appends
  // would go to places the writer never reads, while the writer writes what the owner's ring holds there.
  const ring: unknown = t.ring;
  if (!isRing(ring)) throw bad(ring instanceof SharedArrayBuffer ? `its ring, a SharedArrayBuffer of ${ring.byteLength} bytes, is not a ring of this layout (ringBytes + 8 bytes, ringBytes a power of two from 64 KiB to 1 GiB)` : 'its ring is not a SharedArrayBuffer');
  const ringBytes = Atomics.load(new Int32Array(t.control, 0, CONTROL_I32_SLOTS), I32.RING_BYTES);
  if (ringBytes !== ringSize(ring)) throw bad(`its ring of ${ringSize(ring)} bytes is not the ring of its control block (${ringBytes} bytes)`);
  // Of the right size, yet another buffer (another producer's ring, a new one): the same check by the
  // id the opener stored in both. A copy of the library that stored none has 0 in both.
  const ringId = Number(Atomics.load(new BigInt64Array(t.control, CONTROL_I32_SLOTS * 4, CONTROL_I64_SLOTS), I64.RING_ID));
  if (ringId !== ringIdOf(ring)) throw bad('its ring is not the ring of its control block (another producer\'s ring, or another buffer of the same size)');
  if (typeof t.logDir !== 'string' || !Number.isSafeInteger(t.maxRecordBytes) || !Number.isSafeInteger(t.appendTimeoutMs)) throw bad('its logDir, maxRecordBytes or appendTimeoutMs is missing');
  const maxRecordBytes = t.maxRecordBytes as number;
  if (maxRecordBytes < 0 || maxRecordBytes > ringSize(ring) - 16) throw bad(`its maxRecordBytes ${maxRecordBytes} does not fit its ring (0 to ringBytes - 16, ${ringSize(ring) - 16})`);
  // As Producer.open takes it: a wait bound past it (or below 0) is no bound a handle could keep.
  if (t.appendTimeoutMs! < 0 || t.appendTimeoutMs! > MAX_APPEND_TIMEOUT_MS) throw bad(`its appendTimeoutMs ${t.appendTimeoutMs} is outside 0 to ${MAX_APPEND_TIMEOUT_MS}`);
  return t as ProducerToken;
}
