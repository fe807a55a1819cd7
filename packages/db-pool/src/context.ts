// What the parts of one pool share: resolved options, the open connections, counts, state, and
// the scrubbing of secrets out of text that leaves the pool.
import { createRedactor, type Logger, type Redactor } from '@periscope/core';
import type { ResolvedPoolOptions } from './config';
import type { Conn } from './conn';
import type { PoolInstruments } from './instrumentation';
import type { PoolAccess } from './internals';
import type { PoolState } from './types';

export interface Counts {
  created: number;
  destroyed: number;
  recycled: number;
  validations: number;
  validationFailures: number;
  acquireTimeouts: number;
  idleErrors: number;
  leaks: number;
  resets: number;
}

export class PoolContext {
  state: PoolState = 'open';
  readonly conns = new Set<Conn>();
  readonly counts: Counts = {
    created: 0,
    destroyed: 0,
    recycled: 0,
    validations: 0,
    validationFailures: 0,
    acquireTimeouts: 0,
    idleErrors: 0,
    leaks: 0,
    resets: 0,
  };
  /** Set when a connection breaks: older connections are validated at their next checkout. */
  lastDisconnectAt = 0;
  /** generic-pool, set once the pool is built. */
  access!: PoolAccess<Conn>;
  readonly logger: Logger;
  readonly serverLabel: string;
  private readonly redactor: Redactor;

  constructor(
    readonly opts: ResolvedPoolOptions,
    readonly instruments: PoolInstruments,
    readonly metered: boolean,
    readonly server: { host: string; port: number; database: string },
  ) {
    this.logger = opts.logger;
    this.serverLabel = `${server.host}:${server.port}/${server.database}`;
    // Core's default patterns (URL passwords, password=…) plus the live password itself, which
    // pg's and the server's messages may quote without any marker around it.
    this.redactor = createRedactor({
      patterns: liveSecrets(opts).map((secret) => ({
        name: 'db_password',
        regex: new RegExp(secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g'),
      })),
    });
  }

  get name(): string {
    return this.opts.name;
  }

  /** `text` without the password or anything else core's redactor recognises. */
  scrub(text: string): string {
    return this.redactor.redactString(text);
  }

  markBroken(conn: Conn, err: unknown): void {
    if (conn.broken === undefined) conn.broken = err;
    this.lastDisconnectAt = Date.now();
  }

  updateGauges(): void {
    if (!this.metered) return;
    const gp = this.access.gp;
    this.instruments.gauges({ total: this.conns.size, idle: gp.available, active: gp.borrowed, pending: gp.pending });
  }

  countsText(): string {
    const gp = this.access.gp;
    return `total=${this.conns.size} idle=${gp.available} active=${gp.borrowed} waiting=${gp.pending} max=${this.opts.poolSize + this.opts.maxOverflow}`;
  }
}

function liveSecrets(opts: ResolvedPoolOptions): string[] {
  const secrets: string[] = [];
  if (typeof opts.config.password === 'string' && opts.config.password.length >= 3) secrets.push(opts.config.password);
  if (opts.connectionString) {
    const password = new URL(opts.connectionString).password;
    if (password.length >= 3) {
      secrets.push(password);
      try {
        secrets.push(decodeURIComponent(password));
      } catch {
        // a malformed escape: the raw form is enough
      }
    }
  }
  return [...new Set(secrets)];
}
