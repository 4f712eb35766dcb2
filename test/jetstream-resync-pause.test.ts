/**
 * A resync that finds nothing stored (the stream answers, the publishes fail at once: "no
 * responders" in a leader election) is followed by a pause of 250 ms before the next publish. The
 * acknowledgement step after the resync queued a publish at once, before the pause's timer: the
 * producer went publish, read of the stream, publish, ... with no pause until its deadline, thousands
 * of requests a second. The publishes fail for a second (session.js.publish replaced, on src/).
 * Skipped with a printed reason without nats-server.
 */
import * as assert from 'uvu/assert';
import { jetstream } from '../src/jetstream/index.js';
import { suite, waitFor } from './kit.js';
import { runOrSkip, startNats, stopAllNats, type NatsServer } from './nats-kit.js';

const test = suite('jetstream producer: the pause after a resync that found nothing');
let server: NatsServer;
test.before(async () => { server = await startNats(); });
test.after(stopAllNats);

interface Inside {
  session: { js: { publish: (...a: unknown[]) => Promise<unknown> } };
  append(d: string): number;
  flush(): Promise<void>;
  stats(): { resyncs: number };
  destroy(): Promise<void>;
}

test('publishes that fail at once: about one publish per pause, not a storm', async () => {
  const backend = jetstream({ servers: server.url, stream: 'resync-pause', timeoutMs: 1_000 }) as unknown as { openProducer(o: object): Promise<Inside> };
  const p = await backend.openProducer({});
  const js = p.session.js;
  const real = js.publish.bind(js);
  let failing = true;
  let calls = 0;
  js.publish = (...a: unknown[]) => { calls++; return failing ? Promise.reject(new Error('503 no responders (test)')) : real(...a); };
  try {
    p.append('r0');
    const t0 = performance.now();
    await waitFor(() => performance.now() - t0 > 1_000, 'a second of failing publishes');
    failing = false;
    process.stdout.write(`#   ${calls} publishes and ${p.stats().resyncs} resyncs in a second of failures\n`);
    assert.ok(calls <= 8, `at most about one publish per 250 ms pause, got ${calls}`);
  } finally {
    await p.destroy();
  }
});

runOrSkip(test, 'jetstream producer: the pause after a resync that found nothing');
