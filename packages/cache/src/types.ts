// The option and result shapes of the Cache API.

export interface SetOptions {
  ttlMs?: number;
  tags?: readonly string[];
  /** Overrides the cache's graceMs for this entry. */
  graceMs?: number;
}

export interface GetOrSetOptions extends SetOptions {
  /** With a stale value at hand, wait this long for the factory before serving stale (0 = serve stale at once). */
  softTimeoutMs?: number;
  /** Abort the factory (through its signal) and fail with FactoryTimeoutError after this long; 0 = never. */
  hardTimeoutMs?: number;
  /** Stops this caller waiting; aborts the factory when no other caller waits for it. */
  signal?: AbortSignal;
}

export interface FactoryContext {
  signal: AbortSignal;
  key: string;
}

export type Factory<T> = (signal: AbortSignal, context: FactoryContext) => T | Promise<T>;

export interface SetManyEntry<T = unknown> extends SetOptions {
  key: string;
  value: T;
}

export interface WrapOptions<A extends unknown[]> extends SetOptions {
  /** Key prefix (default: the function's name), or a function building the whole key from the arguments. */
  key?: string | ((...args: A) => string);
}

export interface L2Health {
  status: 'pass' | 'warn' | 'fail';
  output: string;
  observedValue?: number;
  observedUnit?: 'ms';
}
