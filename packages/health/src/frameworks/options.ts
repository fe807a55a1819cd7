// Options shared by the framework integrations, checked once at setup.
import type { Metrics } from '@periscope/metrics';
import { HealthConfigError } from '../errors';
import type { HealthServer } from '../server';

export interface FrameworkOptions {
  /** The health server whose checks, lifecycle and shutdown the app shares. */
  health: HealthServer;
  /** Where the RED metrics go. @default the health server's metrics; `false` records none */
  metrics?: Metrics | false;
  /** Serve /livez /readyz /health /metrics /status on the app's own port. @default true */
  probes?: boolean;
  /**
   * The app sits behind a proxy you trust: the span's client.address, server.address/port and
   * url.scheme come from `Forwarded` / `X-Forwarded-*`. Off, a client could write them. @default false
   */
  trustProxy?: boolean;
}

export interface ResolvedFrameworkOptions {
  health: HealthServer;
  metrics: Metrics | undefined;
  probes: boolean;
  trustProxy: boolean;
}

const KNOWN = new Set(['health', 'metrics', 'probes', 'trustProxy']);

export function resolveFrameworkOptions(options: FrameworkOptions, where: string): ResolvedFrameworkOptions {
  // Duck-typed: two copies of this package (a bundler, a monorepo) must still work together.
  const h = options?.health as Partial<HealthServer> | undefined;
  if (typeof h?.handleProbe !== 'function' || typeof h.addServer !== 'function' || typeof h.close !== 'function')
    throw new HealthConfigError(`${where}: health`, 'a HealthServer from createHealthServer()', options?.health);
  for (const key of Object.keys(options))
    if (!KNOWN.has(key)) throw new HealthConfigError(`${where}: ${key}`, `one of ${[...KNOWN].join(', ')}`, key);
  for (const key of ['probes', 'trustProxy'] as const)
    if (options[key] !== undefined && typeof options[key] !== 'boolean')
      throw new HealthConfigError(`${where}: ${key}`, 'a boolean', options[key]);
  const metrics = options.metrics === false ? undefined : (options.metrics ?? options.health.metrics);
  return { health: options.health, metrics, probes: options.probes ?? true, trustProxy: options.trustProxy ?? false };
}
