/** `Producer.open({ backend })`: the checks common to every backend, then the engine's own open. */
import { LogError } from '../errors.js';
import { describe } from '../validate.js';
import { isLogBackend, type BackendProducer, type BackendProducerOptions } from './backend-types.js';

export async function openBackendProducer(options: BackendProducerOptions): Promise<BackendProducer> {
  const o = options as BackendProducerOptions & { logDir?: unknown };
  if (!isLogBackend(o.backend)) throw LogError.invalidOption('backend', `expected a backend made by a backend factory such as jetstream(), got ${describe(o.backend)}`);
  if (o.logDir !== undefined) throw LogError.invalidOption('logDir', 'give either logDir or backend, not both');
  return o.backend.openProducer(options);
}
