// Structural view of @periscope/metrics: logging sits on floor 1 and may not import it, but its
// Metrics object satisfies these interfaces, so users pass it straight in.

export interface CounterLike {
  inc(labels: Record<string, string | number>, value?: number): void;
  /** Bound child for fixed labels (used on hot paths when present). */
  labels?(labels: Record<string, string | number>): { inc(value?: number): void };
}

/** inc() per label value through bound children when the counter offers them (no label hashing per call). */
export function perLabel(counter: CounterLike | undefined, label: string): ((value: string) => void) | undefined {
  if (counter === undefined) return undefined;
  const bound = new Map<string, { inc(value?: number): void }>();
  return (value: string) => {
    let b = bound.get(value);
    if (b === undefined) {
      b = counter.labels
        ? counter.labels({ [label]: value })
        : { inc: (n?: number) => counter.inc({ [label]: value }, n) };
      bound.set(value, b);
    }
    b.inc();
  };
}

export interface MetricsLike {
  counter(config: { name: string; help: string; labelNames?: readonly string[] }): CounterLike;
}
