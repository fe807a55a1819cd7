// Retries and a circuit breaker for provider calls. Transient failures (rate limits, timeouts,
// 5xx, dropped connections) are retried with capped exponential backoff and full jitter (AWS
// Architecture Blog, "Exponential Backoff and Jitter"), waiting at least what Retry-After asks,
// and never past the caller's deadline. A per-provider breaker stops calling a provider whose
// recent attempts mostly failed, and lets one trial call through after a cool-down.
// Only model calls go through here: a model call has no side effect, while a tool call may have
// one, so tool calls are never retried by the agent.
import { LlmError } from './provider';

/** Provider error types worth another attempt. */
export const TRANSIENT_ERROR_TYPES: ReadonlySet<string> = new Set([
  'rate_limit_exceeded',
  'timeout',
  'server_error',
  'connection_error',
]);

export function isTransient(err: unknown): boolean {
  return err instanceof LlmError && TRANSIENT_ERROR_TYPES.has(err.type);
}

export interface RetryPolicy {
  /** Attempts per model call, the first included. @default 4 */
  maxAttempts: number;
  /** Backoff cap before jitter of the first retry; doubles per retry. @default 250 */
  baseDelayMs: number;
  /** Largest backoff cap. @default 8000 */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 8000 };

/** Full jitter: uniform in [0, min(maxDelay, base * 2^(retry-1))], and never less than Retry-After. */
export function backoffMs(retry: number, policy: RetryPolicy, random: () => number, retryAfterMs = 0): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.max(retryAfterMs, Math.floor(random() * cap));
}

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Attempts remembered. @default 20 */
  windowSize: number;
  /** No decision before this many attempts in the window. @default 10 */
  minCalls: number;
  /** Opens when this share of the window's attempts failed transiently. @default 0.5 */
  failureRatio: number;
  /** Stays open this long, then lets one trial call through. @default 10000 */
  openMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { windowSize: 20, minCalls: 10, failureRatio: 0.5, openMs: 10_000 };

/** The provider is not called: its breaker is open. Not transient (retrying at once cannot help). */
export class CircuitOpenError extends LlmError {
  constructor(provider: string, retryInMs: number) {
    super(
      `circuit open for provider ${provider}: recent calls mostly failed; next trial in ${retryInMs} ms`,
      'circuit_open',
    );
  }
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private readonly outcomes: boolean[] = [];
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;

  constructor(
    readonly provider: string,
    private readonly options: BreakerOptions = DEFAULT_BREAKER,
    private readonly now: () => number = () => performance.now(),
    private readonly onChange: (state: BreakerState) => void = () => undefined,
  ) {}

  get state(): BreakerState {
    return this.current;
  }

  /** Throws CircuitOpenError when no call may go out now. */
  admit(): void {
    if (this.current === 'closed') return;
    const waited = this.now() - this.openedAt;
    if (this.current === 'open' && waited >= this.options.openMs) this.set('half_open');
    if (this.current === 'half_open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return;
    }
    throw new CircuitOpenError(this.provider, Math.max(0, Math.ceil(this.options.openMs - waited)));
  }

  /** Records an attempt's outcome; only transient failures count against the provider. */
  record(err: unknown): void {
    const failed = err !== undefined && isTransient(err);
    if (err !== undefined && !failed && !(err instanceof LlmError)) return; // not the provider's doing
    if (this.current === 'half_open') {
      this.trialInFlight = false;
      if (failed) this.open();
      else this.reset();
      return;
    }
    if (this.current === 'open') return;
    this.outcomes.push(failed);
    if (failed) this.failures++;
    if (this.outcomes.length > this.options.windowSize && this.outcomes.shift()) this.failures--;
    const n = this.outcomes.length;
    if (n >= this.options.minCalls && this.failures / n >= this.options.failureRatio) this.open();
  }

  private open(): void {
    this.openedAt = this.now();
    this.set('open');
  }

  private reset(): void {
    this.outcomes.length = 0;
    this.failures = 0;
    this.set('closed');
  }

  private set(state: BreakerState): void {
    if (state === this.current) return;
    this.current = state;
    this.onChange(state);
  }
}

export interface RetryContext {
  policy: RetryPolicy;
  breaker: CircuitBreaker;
  /** performance.now() value after which no attempt starts and no wait begins. */
  deadline: number;
  now: () => number;
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  /** Called before each wait: the failed attempt's number, its error, the wait. */
  onRetry?: (attempt: number, err: LlmError, delayMs: number) => void;
}

/** Runs `attempt(n)` (n from 1) until it succeeds, fails for good, or the deadline or policy ends it. */
export async function withRetries<T>(ctx: RetryContext, attempt: (n: number) => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    ctx.breaker.admit();
    let result: T;
    try {
      result = await attempt(n);
    } catch (err) {
      ctx.breaker.record(err);
      if (!isTransient(err) || n >= ctx.policy.maxAttempts || ctx.signal?.aborted) throw err;
      const e = err as LlmError;
      const delay = backoffMs(n, ctx.policy, ctx.random, e.retryAfterMs);
      if (ctx.now() + delay >= ctx.deadline) throw err; // waiting would pass the deadline
      ctx.onRetry?.(n, e, delay);
      await ctx.sleep(delay, ctx.signal);
      continue;
    }
    ctx.breaker.record(undefined);
    return result;
  }
}

/** A wait that an AbortSignal cuts short (with the signal's reason). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new LlmError('request aborted', 'aborted', { cause: signal.reason }));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new LlmError('request aborted', 'aborted', { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
