/**
 * The @nats-io packages (optional peer dependencies), loaded by the first connect of the process
 * (session.ts) rather than by loading `reactive-log/jetstream`: without them the subpath still loads,
 * and opening a handle on it fails with ERR_INVALID_OPTION naming the packages to install, instead of
 * Node's uncoded "cannot find module". Every other use of them runs on a session, so after a load.
 */
import type * as TransportNode from '@nats-io/transport-node';
import type * as JetStream from '@nats-io/jetstream';
import type * as Kv from '@nats-io/kv';
import { internalError, LogError } from '../errors.js';

/** The three packages' exports. */
export interface NatsPackages {
  readonly transport: typeof TransportNode;
  readonly jetstream: typeof JetStream;
  readonly kv: typeof Kv;
}

const PACKAGES = ['@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/kv'] as const;
let loaded: NatsPackages | null = null;
let loading: Promise<NatsPackages> | null = null;

/** Loads the three packages once; ERR_INVALID_OPTION (option `backend`) naming them when one is missing or cannot be loaded. */
export function loadNats(): Promise<NatsPackages> {
  if (loaded !== null) return Promise.resolve(loaded);
  loading ??= Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream'), import('@nats-io/kv')]).then(
    ([transport, jetstream, kv]) => (loaded = { transport, jetstream, kv }),
    (e: unknown) => {
      loading = null; // installed later in the process: the next open tries again
      const why = e instanceof Error ? e.message : String(e);
      // "Install them" only when one of them is not found: a bundle that holds them may fail to load them otherwise.
      const missing = ['MODULE_NOT_FOUND', 'ERR_MODULE_NOT_FOUND'].includes((e as NodeJS.ErrnoException)?.code ?? '') && PACKAGES.some((name) => why.includes(name));
      throw LogError.invalidOption('backend', missing
        ? `reactive-log/jetstream needs the packages ${PACKAGES.join(', ')} (3.x), optional peer dependencies: install them (npm install ${PACKAGES.join(' ')}); loading them failed: ${why}`
        : `reactive-log/jetstream could not load the packages ${PACKAGES.join(', ')}: ${why} (an ES module bundle that holds them needs the createRequire banner: docs/bundling.md)`, { cause: e });
    },
  );
  return loading;
}

/** The packages, once `loadNats()` resolved (every caller runs on a session, opened after it). */
export function nats(): NatsPackages {
  if (loaded === null) throw internalError('the @nats-io packages are used before they were loaded');
  return loaded;
}
