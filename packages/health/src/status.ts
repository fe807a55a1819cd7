// /status: a JSON document about the process (service, version, state, uptime, startup tasks,
// last check results) plus one section per registered provider, each bounded by statusTimeoutMs.
// The whole document goes through the redactor before it leaves the process.
import { validateName } from './config';
import { HealthConfigError, errorMessage } from './errors';
import { withTimeout } from './timeout';

export type StatusProvider = () => unknown;

export const RESERVED_STATUS_KEYS: ReadonlySet<string> = new Set([
  'service',
  'version',
  'state',
  'uptimeSeconds',
  'startedAt',
  'time',
  'pid',
  'node',
  'startup',
  'checks',
]);

export interface StatusBase {
  service: string;
  version: string;
  state: string;
  startup: Record<string, unknown>;
  checks: Record<string, unknown>;
}

export class StatusProviders {
  private readonly providers = new Map<string, StatusProvider>();

  constructor(private readonly timeoutMs: number) {}

  add(name: string, provider: StatusProvider): void {
    validateName('status name', name);
    if (RESERVED_STATUS_KEYS.has(name))
      throw new HealthConfigError(
        'status name',
        `a name that is not reserved (reserved: ${[...RESERVED_STATUS_KEYS].join(', ')})`,
        name,
      );
    if (this.providers.has(name)) throw new HealthConfigError('status name', 'a name not already registered', name);
    if (typeof provider !== 'function')
      throw new HealthConfigError(`status ${name}`, 'a function () => unknown', provider);
    this.providers.set(name, provider);
  }

  /** The document before redaction; a provider that throws or times out shows as `{ error }`. */
  async document(base: StatusBase): Promise<Record<string, unknown>> {
    const uptime = process.uptime();
    const doc: Record<string, unknown> = {
      service: base.service,
      version: base.version,
      state: base.state,
      // Process uptime, as in /health: the service started with the process, not with this server.
      uptimeSeconds: Math.round(uptime),
      startedAt: new Date(Date.now() - uptime * 1000).toISOString(),
      time: new Date().toISOString(),
      pid: process.pid,
      node: process.version,
      startup: base.startup,
      checks: base.checks,
    };
    const sections = await Promise.all(
      [...this.providers].map(async ([name, provider]) => {
        try {
          return [name, await withTimeout(`status ${name}`, this.timeoutMs, () => provider())] as const;
        } catch (err) {
          return [name, { error: errorMessage(err) }] as const;
        }
      }),
    );
    for (const [name, value] of sections) doc[name] = value;
    return doc;
  }
}
