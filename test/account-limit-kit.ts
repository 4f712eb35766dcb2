/**
 * The JetStream account-limit tests' shared setup: a nats-server whose one account may store
 * ACCOUNT_MAX_FILE bytes (nats-server 2.9 checks that limit after storing a record, then removes it:
 * error 10002), and a fill of the account up to the point where it holds room for one more record of
 * 500 B but not two.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import type { BackendProducer } from '../dist/index.js';
import { startNats, within, type NatsServer } from './nats-kit.js';

/** The account's file storage limit, bytes. */
export const ACCOUNT_MAX_FILE = 40_000;

/** A nats-server (test/nats-kit.ts) whose single account may store ACCOUNT_MAX_FILE bytes. */
export function startAccountLimitedNats(): Promise<NatsServer> {
  return startNats(15_000, undefined, `accounts { A { jetstream { max_file: ${ACCOUNT_MAX_FILE}, max_mem: 100000 }, users [{user: a, password: a}] } }\nno_auth_user: a\n`);
}

/**
 * Appends records of 500 B one at a time, each flushed, until the account holds room for one more
 * but not two (the account's usage read after each).
 */
export async function fillAccount(p: BackendProducer, jsm: JetStreamManager): Promise<void> {
  const used = async (): Promise<number> => (await jsm.getAccountInfo()).storage;
  let size = 0;
  for (;;) {
    const before = await used();
    p.append(Buffer.alloc(500, 1));
    await within(p.flush(), 10_000, 'flush');
    size = Math.max(size, (await used()) - before);
    if (ACCOUNT_MAX_FILE - (await used()) < 2 * size) return;
  }
}
