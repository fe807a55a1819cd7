// The lifecycle state machine: starting → ready → draining → stopped. Readiness waits for
// markReady() and for every startup task; the state never goes back.
import type { Logger } from '@periscope/core';
import { validateName } from './config';
import { HealthConfigError, HealthStateError, errorMessage } from './errors';
import type { Instruments, LifecycleState } from './instrumentation';

interface StartupTask {
  state: 'pending' | 'done' | 'failed';
  error?: string;
}

export class Lifecycle {
  private current: LifecycleState = 'starting';
  private readyRequested = false;
  private readonly tasks = new Map<string, StartupTask>();

  constructor(
    private readonly instruments: Instruments,
    private readonly logger: Logger,
    private readonly redact: (value: unknown) => unknown,
  ) {
    instruments.state('starting');
  }

  get state(): LifecycleState {
    return this.current;
  }

  set(state: LifecycleState): void {
    this.current = state;
    this.instruments.state(state);
  }

  addStartupTask(name: string, task: Promise<unknown> | (() => unknown)): void {
    validateName('startup task name', name);
    if (this.current !== 'starting')
      throw new HealthStateError(
        `cannot add startup task ${JSON.stringify(name)}: the server is already ${this.current}`,
      );
    if (this.tasks.has(name)) throw new HealthConfigError('startup task name', 'a name not already registered', name);
    if (typeof task !== 'function' && !(task instanceof Promise))
      throw new HealthConfigError(`startup task ${name}`, 'a promise or a function', task);
    const entry: StartupTask = { state: 'pending' };
    this.tasks.set(name, entry);
    const promise = typeof task === 'function' ? Promise.resolve().then(task) : task;
    promise.then(
      () => {
        entry.state = 'done';
        this.maybeReady();
      },
      (err: unknown) => {
        entry.state = 'failed';
        entry.error = String(this.redact(errorMessage(err)));
        this.logger.error('startup task failed; the service stays unready', { task: name, error: entry.error });
      },
    );
  }

  markReady(): void {
    this.readyRequested = true;
    this.maybeReady();
  }

  /** The `[+]lifecycle ok` / `[-]lifecycle failed: …` line of /readyz?verbose. */
  line(): string {
    if (this.current === 'ready') return '[+]lifecycle ok';
    let why = `state is ${this.current}`;
    if (this.current === 'starting') {
      const pending = [...this.tasks]
        .filter(([, t]) => t.state !== 'done')
        .map(([n, t]) => (t.state === 'failed' ? `${n} failed: ${t.error}` : n));
      if (pending.length) why += `; startup tasks not done: ${pending.join(', ')}`;
      else if (!this.readyRequested) why += '; markReady() not called yet';
    }
    return `[-]lifecycle failed: ${why}`;
  }

  /** Startup task states for /status. */
  startupSummary(): Record<string, unknown> {
    return Object.fromEntries(
      [...this.tasks].map(([n, t]) => [n, t.error === undefined ? t.state : { state: t.state, error: t.error }]),
    );
  }

  private maybeReady(): void {
    if (this.current !== 'starting' || !this.readyRequested) return;
    for (const t of this.tasks.values()) if (t.state !== 'done') return;
    this.set('ready');
    this.logger.info('health server ready');
  }
}
