// Circuit breaker for L2: after `failureThreshold` consecutive failures it opens and every call
// fails at once; after `resetMs` one probe call is let through (half-open) and its outcome
// closes or re-opens the breaker. A dead Redis then costs one timeout per resetMs, not per call.
import type { BreakerState } from './instrumentation';

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

const RANK: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * One breaker per node (slot owner of a Redis Cluster; a single node has one): timeouts on one
 * dead master open its breaker only, and keys on healthy masters keep being served. Reports the
 * worst state across nodes to `onChange`.
 */
export class BreakerSet {
  private readonly byNode = new Map<string, CircuitBreaker>();
  private worst: BreakerState = 'closed';

  constructor(
    private readonly options: BreakerOptions,
    private readonly onChange: (worst: BreakerState) => void,
  ) {}

  get state(): BreakerState {
    return this.worst;
  }

  /** Nodes whose breaker is open now. */
  get openNodes(): number {
    let n = 0;
    for (const b of this.byNode.values()) if (b.state === 'open') n++;
    return n;
  }

  for(node: string): CircuitBreaker {
    let b = this.byNode.get(node);
    if (b === undefined) {
      // Nodes come and go with failovers; a closed breaker carries nothing worth keeping.
      if (this.byNode.size >= 1024) for (const [k, v] of this.byNode) if (v.state === 'closed') this.byNode.delete(k);
      b = new CircuitBreaker(this.options, () => this.recompute());
      this.byNode.set(node, b);
    }
    return b;
  }

  /** Reconnected: every node gets traffic again. */
  successAll(): void {
    for (const b of this.byNode.values()) b.success();
  }

  private recompute(): void {
    let worst: BreakerState = 'closed';
    for (const b of this.byNode.values()) if (RANK[b.state] > RANK[worst]) worst = b.state;
    if (worst === this.worst) return;
    this.worst = worst;
    this.onChange(worst);
  }
}
