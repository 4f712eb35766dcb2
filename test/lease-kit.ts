/** Leases of the JetStream backend, played from outside in tests. */
import { connect } from '@nats-io/transport-node';
import { jetstream as natsJetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { waitFor } from './kit.js';

/**
 * Another holder's entry written over lease `key` of `stream` (as if it expired while its consumer
 * was paused and another consumer took it), until `noticed()` says the consumer's renewal found it;
 * then that entry is deleted, so that the next open takes the cursor. Deleting the consumer's entry
 * alone raced its renewal: a renewal that finds no entry counts the lease as expired, not as taken.
 */
export async function intrudeOnLease(url: string, stream: string, key: string, noticed: () => boolean): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const leases = await new Kvm(natsJetstream(nc)).open(`rl-${stream}-leases`);
    await leases.put(key, JSON.stringify({ pid: 1, host: 'elsewhere', since: new Date().toISOString(), token: 'intruder' }));
    await waitFor(noticed, 'the consumer\'s renewal to find another holder');
    await leases.delete(key);
  } finally {
    await nc.close();
  }
}
