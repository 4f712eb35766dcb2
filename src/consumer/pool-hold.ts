/**
 * A pool round's commit that may be in doubt (src/consumer/pool-round.ts). On JetStream a commit whose
 * try failed (the server away, the connection lost) is retried for up to 2 x timeoutMs; meanwhile
 * the lanes would go on finishing records that can only be committed by that commit or a later one,
 * and a commit that never succeeds leaves each of them to run again on the cursor's next call. So while
 * the commit is in doubt the lanes hold (P32.HOLD): each finishes the handler call it runs and begins
 * no other record.
 */
import { bump } from '../ring/layout.js';
import { P32, type ProgressViews } from './pool-protocol.js';

/**
 * Awaits `committing` (an async cursor store's commit; nothing to wait for otherwise), looking every `lookMs` whether it is in doubt (`inDoubt`); if so the lanes hold
 * until it succeeds. A commit that fails leaves them held: the call stops next (which wakes them).
 */
export async function commitHolding(pv: ProgressViews, committing: void | Promise<void>, inDoubt: () => boolean, lookMs: number): Promise<void> {
  if (committing === undefined) return;
  let settled = false;
  const done = committing.finally(() => { settled = true; });
  while (!settled) {
    if (Atomics.load(pv.i32, P32.HOLD) === 0 && inDoubt()) Atomics.store(pv.i32, P32.HOLD, 1);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((resolve) => { timer = setTimeout(resolve, lookMs); })]).catch(() => undefined);
    clearTimeout(timer);
  }
  await done;
  if (Atomics.load(pv.i32, P32.HOLD) !== 0) {
    Atomics.store(pv.i32, P32.HOLD, 0);
    bump(pv, P32.SETTLED_SEQ); // the held lanes wait on it
  }
}
