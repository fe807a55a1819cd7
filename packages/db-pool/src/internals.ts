// The one place that touches private parts of generic-pool and pg. The pool's measured target
// (≥ 0.95× pg.Pool on SELECT 1, 50 callers, pool of 10) needs them: a released connection goes
// straight to the next waiter on the same loan, waiters share one acquire-timeout timer (set only
// when a request really waits), waiters are failed at close / on a permanent connect error, the
// pool is topped up after an outage, and an idle connection's eviction is decided by our rules.
// generic-pool has had no release since 2022 (package.json pins ~3.9.0); pg's backend key
// (processID / secretKey, for the CancelRequest) has no public accessor. Each access is checked
// at start: an unknown version or a missing member fails loudly with UnsupportedDependencyError.
import { createRequire } from 'node:module';
import genericPool from 'generic-pool';
import type { Factory, Options as GenericPoolOptions, Pool as GenericPool } from 'generic-pool';
import type pg from 'pg';
import { UnsupportedDependencyError } from './errors';

/** The versions these internals were written against (major.minor). */
export const SUPPORTED = { 'generic-pool': ['3.9'], pg: ['8'] } as const;

export interface WaitingRequest {
  readonly state: string;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

interface Internals<T> extends GenericPool<T> {
  _waitingClientsQueue: {
    readonly length: number;
    enqueue(request: WaitingRequest, priority?: number): void;
    dequeue(): WaitingRequest | undefined;
  };
  _descheduleEvictorRun(): void;
  _ensureMinimum(): void;
}

type PoolCtor = new <T>(
  evictor: new () => { evict(config: unknown, resource: { obj: T }, available: number): boolean },
  deque: unknown,
  priorityQueue: unknown,
  factory: Factory<T>,
  options: GenericPoolOptions,
) => Internals<T>;

const gpModule = genericPool as unknown as { Pool: PoolCtor; Deque: unknown; PriorityQueue: unknown };
const load = createRequire(__filename);

/** Throws UnsupportedDependencyError unless each installed version starts with a supported prefix. */
export function checkVersions(installed: Record<keyof typeof SUPPORTED, string> = installedVersions()): void {
  for (const [name, prefixes] of Object.entries(SUPPORTED) as [keyof typeof SUPPORTED, readonly string[]][]) {
    const version = installed[name];
    if (!prefixes.some((p) => version === p || version.startsWith(`${p}.`))) {
      throw new UnsupportedDependencyError(
        `@periscope/db-pool relies on internals of ${name} ${prefixes.join(' / ')}.x, but ${name} ${version} is installed; ` +
          `install a supported ${name} version (see packages/db-pool/src/internals.ts)`,
      );
    }
  }
}

function installedVersions(): Record<keyof typeof SUPPORTED, string> {
  const version = (name: string) => String((load(`${name}/package.json`) as { version?: unknown }).version);
  return { 'generic-pool': version('generic-pool'), pg: version('pg') };
}

let checked = false;

/** A generic-pool around `factory` whose idle connections are evicted when `evict` says so. */
export function createGenericPool<T>(
  factory: Factory<T>,
  evict: (obj: T) => boolean,
  options: GenericPoolOptions,
): PoolAccess<T> {
  if (!checked) {
    checkVersions();
    checked = true;
  }
  class Evictor {
    evict(_config: unknown, resource: { obj: T }): boolean {
      return evict(resource.obj);
    }
  }
  const gp = new gpModule.Pool<T>(Evictor, gpModule.Deque, gpModule.PriorityQueue, factory, options);
  const queue = gp._waitingClientsQueue;
  for (const member of ['_descheduleEvictorRun', '_ensureMinimum'] as const) {
    if (typeof gp[member] !== 'function')
      throw new UnsupportedDependencyError(`generic-pool has no ${member}(): this version is not supported`);
  }
  if (!queue || typeof queue.enqueue !== 'function' || typeof queue.dequeue !== 'function')
    throw new UnsupportedDependencyError('generic-pool has no waiting queue: this version is not supported');
  return new PoolAccess(gp);
}

/** generic-pool with the private operations the pool needs, named. */
export class PoolAccess<T> {
  /** The request enqueued by the acquire() running now (see acquire()). */
  private lastRequest: WaitingRequest | undefined;

  constructor(readonly gp: GenericPool<T>) {
    const queue = (gp as Internals<T>)._waitingClientsQueue;
    const enqueue = queue.enqueue.bind(queue);
    queue.enqueue = (request, priority) => {
      this.lastRequest = request;
      enqueue(request, priority);
    };
  }

  /** gp.acquire(), plus its waiting request when it had to wait (undefined when served at once). */
  acquire(priority: number | undefined): { pending: Promise<T>; request: WaitingRequest | undefined } {
    const pending = this.gp.acquire(priority);
    const request = this.lastRequest;
    this.lastRequest = undefined;
    return { pending, request: request && request.state === 'PENDING' ? request : undefined };
  }

  /** The next caller still waiting (in priority order), removed from the queue. */
  nextWaiter(): WaitingRequest | undefined {
    const queue = (this.gp as Internals<T>)._waitingClientsQueue;
    for (let request = queue.dequeue(); request; request = queue.dequeue()) {
      if (request.state === 'PENDING') return request;
    }
    return undefined;
  }

  /** Fails every waiting caller with `err`. */
  rejectWaiters(err: Error): void {
    for (let request = this.nextWaiter(); request; request = this.nextWaiter()) request.reject(err);
  }

  /** Opens connections up to `min` (generic-pool only does so at start and after a destroy). */
  ensureMinimum(): void {
    (this.gp as Internals<T>)._ensureMinimum();
  }

  /** Stops the eviction timer (when drain is cut short, gp.drain() never gets to do it). */
  stopEvictor(): void {
    (this.gp as Internals<T>)._descheduleEvictorRun();
  }
}

/** pg's backend key of a connection (BackendKeyData), for a CancelRequest; undefined before it arrived. */
export function backendKey(client: pg.Client): { processID: number; secretKey: number } | undefined {
  const c = client as unknown as { processID?: unknown; secretKey?: unknown };
  if (typeof c.processID !== 'number' || typeof c.secretKey !== 'number') return undefined;
  return { processID: c.processID, secretKey: c.secretKey };
}
