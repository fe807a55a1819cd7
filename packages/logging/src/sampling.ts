// Sampling and rate limiting of noisy levels. Sampling is deterministic (every 1/rate-th record
// is kept) so tests and low volumes behave predictably; rate limits use one-second windows.
import { LoggingConfigError } from './errors';
import { isLogLevel, LEVEL_NAMES } from './levels';

export interface SamplingOptions {
  /** Fraction of records kept per level, 0..1 (e.g. `{ debug: 0.1 }`). Unlisted levels: all kept. */
  rates?: Partial<Record<string, number>>;
  /** Most records per second per level (e.g. `{ warn: 100 }`); the rest of the second is dropped. */
  maxPerSecond?: Partial<Record<string, number>>;
  /** Clock of the one-second rate-limit windows (tests). Default Date.now. */
  now?: () => number;
}

export type DropReason = 'sampled' | 'rate_limited';

interface LevelState {
  rate: number;
  maxPerSecond: number;
  seen: number;
  window: number;
  inWindow: number;
  dropped: number;
  droppedSinceKept: number;
}

export class Sampler {
  private readonly levels = new Map<string, LevelState>();
  private total = 0;
  private readonly now: () => number;

  constructor(options: SamplingOptions) {
    if (options === null || typeof options !== 'object')
      throw new LoggingConfigError('sampling', '{ rates?, maxPerSecond?, now? }', options);
    this.now = options.now ?? Date.now;
    for (const [option, table] of [
      ['sampling.rates', options.rates],
      ['sampling.maxPerSecond', options.maxPerSecond],
    ] as const) {
      if (table === undefined) continue;
      for (const [level, value] of Object.entries(table)) {
        if (!isLogLevel(level))
          throw new LoggingConfigError(`${option}.${level}`, `a level (${LEVEL_NAMES.join(', ')})`, 'an unknown level');
        const ok =
          option === 'sampling.rates'
            ? typeof value === 'number' && value >= 0 && value <= 1
            : Number.isInteger(value) && (value as number) >= 0;
        if (!ok)
          throw new LoggingConfigError(
            `${option}.${level}`,
            option === 'sampling.rates' ? 'a number between 0 and 1' : 'a non-negative integer',
            value,
          );
        this.state(level)[option === 'sampling.rates' ? 'rate' : 'maxPerSecond'] = value as number;
      }
    }
  }

  private state(level: string): LevelState {
    let s = this.levels.get(level);
    if (!s) {
      s = { rate: 1, maxPerSecond: Infinity, seen: 0, window: 0, inWindow: 0, dropped: 0, droppedSinceKept: 0 };
      this.levels.set(level, s);
    }
    return s;
  }

  /** null to keep the record, else why it is dropped (and it is counted). */
  admit(level: string): DropReason | null {
    const s = this.levels.get(level);
    if (s === undefined) return null;
    let reason: DropReason | null = null;
    if (s.rate < 1) {
      s.seen++;
      // Keep the record whenever the running kept-count ceil(seen * rate) steps up (the first one always).
      if (Math.ceil(s.seen * s.rate) === Math.ceil((s.seen - 1) * s.rate)) reason = 'sampled';
    }
    if (reason === null && s.maxPerSecond !== Infinity) {
      const window = Math.floor(this.now() / 1000);
      if (window !== s.window) {
        s.window = window;
        s.inWindow = 0;
      }
      if (++s.inWindow > s.maxPerSecond) reason = 'rate_limited';
    }
    if (reason !== null) {
      s.dropped++;
      s.droppedSinceKept++;
      this.total++;
    }
    return reason;
  }

  /** Dropped since the previous kept record of this level (reported on the next kept one). */
  takeDroppedSinceLastKept(level: string): number {
    const s = this.levels.get(level);
    if (s === undefined || s.droppedSinceKept === 0) return 0;
    const n = s.droppedSinceKept;
    s.droppedSinceKept = 0;
    return n;
  }

  counts(): { total: number; byLevel: Record<string, number> } {
    const byLevel: Record<string, number> = {};
    for (const [level, s] of this.levels) if (s.dropped) byLevel[level] = s.dropped;
    return { total: this.total, byLevel };
  }
}
