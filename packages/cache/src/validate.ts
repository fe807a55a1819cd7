// Argument checks of the public calls: bad input fails with CacheInputError before anything changes.
import { CacheClosedError, CacheInputError } from './errors';
import type { SetOptions } from './types';

export function checkKey(key: unknown, closed: boolean, name = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new CacheInputError(name, 'must be a non-empty string');
  if (closed) throw new CacheClosedError();
}

export function checkSetOptions(o: SetOptions): void {
  if (o.ttlMs !== undefined && !(typeof o.ttlMs === 'number' && Number.isFinite(o.ttlMs) && o.ttlMs > 0)) {
    throw new CacheInputError('ttlMs', `must be a positive finite number of milliseconds, got ${String(o.ttlMs)}`);
  }
  if (o.graceMs !== undefined && !(typeof o.graceMs === 'number' && Number.isFinite(o.graceMs) && o.graceMs >= 0)) {
    throw new CacheInputError(
      'graceMs',
      `must be a non-negative finite number of milliseconds, got ${String(o.graceMs)}`,
    );
  }
  if (o.tags !== undefined && (!Array.isArray(o.tags) || o.tags.some((t) => typeof t !== 'string' || t === ''))) {
    throw new CacheInputError('tags', 'must be an array of non-empty strings');
  }
}

export function nonNegativeMs(name: string, v: number | undefined, def: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new CacheInputError(name, `must be a non-negative finite number of milliseconds, got ${String(v)}`);
  return v;
}
