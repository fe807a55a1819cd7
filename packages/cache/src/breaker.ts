// Circuit breaker for L2: after `failureThreshold` consecutive failures it opens and every call
// fails at once; after `resetMs` one probe call is let through (half-open) and its outcome
// closes or re-opens the breaker. A dead Redis then costs one timeout per resetMs, not per call.
import type { BreakerState } from './instruments';

export interface BreakerOptions {
  failureThreshold: number;
  resetMs: number;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;

  constructor(
    private readonly options: BreakerOptions,
    private readonly onChange: (state: BreakerState) => void,
  ) {}

  get state(): BreakerState {
    return this.current;
  }

  /** May a call go through now? Moving to half-open admits exactly one probe. */
  allow(now = Date.now()): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open' && now - this.openedAt >= this.options.resetMs) {
      this.transition('half_open');
      return true;
    }
    return false;
  }

  success(): void {
    this.failures = 0;
    if (this.current !== 'closed') this.transition('closed');
  }

  failure(now = Date.now()): void {
    this.failures++;
    if (this.current === 'half_open' || (this.current === 'closed' && this.failures >= this.options.failureThreshold)) {
      this.openedAt = now;
      this.transition('open');
    }
  }

  private transition(state: BreakerState): void {
    this.current = state;
    this.onChange(state);
  }
}
