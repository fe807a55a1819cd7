// Admission control for POST /tasks: at most `maxConcurrent` tasks run at once and at most
// `maxQueued` wait for a slot (first come, first served); beyond that the answer is 429 with a
// Retry-After estimated from recent task latency, and 503 while the service drains. Each admitted
// task may be a paid LLM call, so the bound protects the bill as well as memory.
import { HttpError } from '@periscope/health';
import type { Metrics } from '@periscope/metrics';

export interface AdmissionOptions {
  /** Tasks run at once. @default 8, flag --max-concurrent-tasks, env PERISCOPE_DEMO_MAX_CONCURRENT_TASKS */
  maxConcurrent: number;
  /** Tasks waiting for a slot. @default 32, flag --max-queued-tasks, env PERISCOPE_DEMO_MAX_QUEUED_TASKS */
  maxQueued: number;
}

type AdmissionCode = 'ERR_DEMO_QUEUE_FULL' | 'ERR_DEMO_DRAINING' | 'ERR_DEMO_CLIENT_GONE';

export class AdmissionController {
  private running = 0;
  private readonly queue: (() => void)[] = [];
  private readonly depth;
  private readonly rejections;

  constructor(
    private readonly options: AdmissionOptions,
    metrics: Metrics,
    /** True once the service drains: new tasks get 503. */
    private readonly draining: () => boolean,
    /** Typical task duration in ms, for Retry-After. */
    private readonly typicalTaskMs: () => number,
  ) {
    this.depth = metrics.gauge({
      name: 'periscope_agent_task_queue_depth',
      help: 'POST /tasks requests waiting for a free task slot',
    });
    this.rejections = metrics.counter({
      name: 'periscope_agent_task_rejections_total',
      help: 'POST /tasks requests refused by admission control, by reason (queue_full: 429, draining: 503)',
      labelNames: ['reason'] as const,
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  get active(): number {
    return this.running;
  }

  /** Runs `task` when a slot is free; throws an HttpError (429/503) when it cannot be admitted. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.draining())
      throw this.reject(503, 'draining', 'the service is draining; send the task to another instance');
    if (this.running >= this.options.maxConcurrent) {
      if (this.queue.length >= this.options.maxQueued)
        throw this.reject(
          429,
          'queue_full',
          `${this.running} tasks running and ${this.queue.length} queued; try again later`,
        );
      await this.wait(signal);
    }
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.queue.shift()?.();
      this.depth.set(this.queue.length);
    }
  }

  private wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        this.depth.set(this.queue.length);
        reject(new HttpError<AdmissionCode>(499, 'client went away while the task was queued', 'ERR_DEMO_CLIENT_GONE'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
      this.depth.set(this.queue.length);
    });
  }

  private reject(status: 429 | 503, reason: 'queue_full' | 'draining', message: string): HttpError<AdmissionCode> {
    this.rejections.inc({ reason });
    // Time for the queue ahead to clear, from the typical task duration; 1-60 s.
    const waves = (this.queue.length + 1) / this.options.maxConcurrent;
    const seconds = Math.min(60, Math.max(1, Math.ceil((this.typicalTaskMs() * waves) / 1000)));
    return new HttpError<AdmissionCode>(
      status,
      message,
      reason === 'draining' ? 'ERR_DEMO_DRAINING' : 'ERR_DEMO_QUEUE_FULL',
      {
        headers: { 'Retry-After': String(status === 503 ? 5 : seconds) },
      },
    );
  }
}
