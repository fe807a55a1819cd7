// onShutdown hooks: run after in-flight requests finished, in reverse registration order (what
// started last stops first), each bounded by its timeout; a failing hook is reported, logged and
// counted, and the next one still runs.
import { performance } from 'node:perf_hooks';
import type { Logger } from '@periscope/core';
import { validateMs, validateName } from './config';
import { HealthConfigError, errorMessage } from './errors';
import type { Instruments } from './instrumentation';
import { withTimeout } from './timeout';

export type ShutdownHook = () => unknown;

export interface ShutdownHookOptions {
  /** Bound on this hook; default the server's hookTimeoutMs. */
  timeoutMs?: number;
}

export interface HookReport {
  name: string;
  ok: boolean;
  durationMs: number;
  /** Why the hook failed (message only). */
  error?: string;
}

export interface ShutdownReport {
  /** 'close()' or the signal name. */
  reason: string;
  durationMs: number;
  /** Requests still running at shutdownTimeoutMs, whose connections were cut. */
  abortedRequests: number;
  /** In the order they ran (reverse registration order). */
  hooks: HookReport[];
}

export class ShutdownHooks {
  private readonly hooks: { name: string; fn: ShutdownHook; timeoutMs: number }[] = [];

  constructor(
    private readonly defaultTimeoutMs: number,
    private readonly instruments: Instruments,
    private readonly logger: Logger,
    private readonly redact: (value: unknown) => unknown,
  ) {}

  add(name: string | undefined, fn: unknown, options: ShutdownHookOptions | undefined): void {
    if (typeof fn !== 'function')
      throw new HealthConfigError('onShutdown hook', 'a function () => unknown | Promise<unknown>', fn);
    const hookName =
      name !== undefined ? validateName('onShutdown name', name) : fn.name || `hook-${this.hooks.length + 1}`;
    const timeoutMs = validateMs(`onShutdown ${hookName}: timeoutMs`, options?.timeoutMs, this.defaultTimeoutMs, 1);
    this.hooks.push({ name: hookName, fn: fn as ShutdownHook, timeoutMs });
  }

  async run(): Promise<HookReport[]> {
    const reports: HookReport[] = [];
    for (const hook of [...this.hooks].reverse()) {
      const t = performance.now();
      try {
        await withTimeout(`onShutdown ${hook.name}`, hook.timeoutMs, () => hook.fn());
        reports.push({ name: hook.name, ok: true, durationMs: performance.now() - t });
      } catch (err) {
        const error = String(this.redact(errorMessage(err)));
        this.instruments.hookFailure(hook.name);
        this.logger.error('onShutdown hook failed', { hook: hook.name, error });
        reports.push({ name: hook.name, ok: false, durationMs: performance.now() - t, error });
      }
    }
    return reports;
  }
}
