// Structural view of @periscope/metrics: logging sits on floor 1 and may not import it, but its
// Metrics object satisfies these interfaces, so users pass it straight in.

export interface CounterLike {
  inc(labels: Record<string, string | number>, value?: number): void;
}

export interface MetricsLike {
  counter(config: { name: string; help: string; labelNames?: readonly string[] }): CounterLike;
}
