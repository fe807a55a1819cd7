// The health server: composes the lifecycle, checks, /status providers, probe and app routes and
// the connection handling on one node:http server, and runs the graceful shutdown sequence.
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import { redact as coreRedact, type Logger } from '@periscope/core';
import { createMetrics, type Metrics } from '@periscope/metrics';
import { CheckRegistry, type CheckDefinition } from './checks';
import { resolveConfig, resolveLogger, type HealthServerOptions, type ResolvedConfig } from './config';
import { Connections } from './connections';
import { createDebugGuard } from './debug-guard';
import { dispatch, type DispatchContext } from './dispatch';
import { ExternalServer } from './external-server';
import { HealthListenError, HealthStateError } from './errors';
import { createInstruments, type Instruments, type LifecycleState } from './instrumentation';
import { Lifecycle } from './lifecycle';
import { mountPage } from './page/routes';
import { builtInRoutes } from './probe-routes';
import { healthDocument, type HealthDocument } from './probes';
import { Router, type RouteHandler, type RouteMethod } from './router';
import { ShutdownHooks, type ShutdownHook, type ShutdownHookOptions, type ShutdownReport } from './shutdown';
import { SignalHandlers } from './signals';
import { StatusProviders, type StatusProvider } from './status';

export type { StatusProvider } from './status';
export type { ShutdownHook, ShutdownHookOptions, HookReport, ShutdownReport } from './shutdown';

export interface ListenAddress {
  host: string;
  port: number;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
}

export class HealthServer {
  /** The underlying node:http server (e.g. to attach an 'upgrade' handler). */
  readonly http: http.Server;
  private readonly config: ResolvedConfig;
  private readonly instruments: Instruments;
  private readonly logger: Logger;
  private readonly checks: CheckRegistry;
  private readonly router: Router;
  private readonly lifecycle: Lifecycle;
  private readonly statusProviders: StatusProviders;
  private readonly hooks: ShutdownHooks;
  private readonly signals: SignalHandlers;
  private readonly connections: Connections;
  /** Where this server records (undefined with `metrics: false`); framework integrations record into it too. */
  readonly metrics: Metrics | undefined;
  private readonly externals: ExternalServer[] = [];
  private readonly probeContext: DispatchContext;
  private address: ListenAddress | undefined;
  private listening: Promise<ListenAddress> | undefined;
  private closing: Promise<ShutdownReport> | undefined;

  constructor(options: HealthServerOptions = {}) {
    this.config = resolveConfig(options);
    const metrics: Metrics | undefined = options.metrics === false ? undefined : (options.metrics ?? createMetrics());
    this.metrics = metrics;
    const redact = options.redact ?? coreRedact;
    this.instruments = createInstruments(metrics);
    this.logger = resolveLogger(options, this.config);
    this.checks = new CheckRegistry(this.instruments, redact);
    this.lifecycle = new Lifecycle(this.instruments, this.logger, redact);
    this.statusProviders = new StatusProviders(this.config.statusTimeoutMs);
    this.hooks = new ShutdownHooks(this.config.hookTimeoutMs, this.instruments, this.logger, redact);
    this.signals = new SignalHandlers((reason) => this.stop(reason), this.logger);
    const builtIns = builtInRoutes({
      checks: this.checks,
      lifecycle: this.lifecycle,
      statusProviders: this.statusProviders,
      metrics,
      instruments: this.instruments,
      redact,
      version: this.config.version,
      serviceId: this.config.serviceId,
    });
    this.router = new Router((p) => builtIns.has(p) || p.startsWith('/readyz/'));
    if (this.config.page)
      mountPage(this.router, {
        debugToken: this.config.debugToken,
        redact,
        traces: options.traces,
        series: options.series,
        profiles: options.profiles,
      });
    const ctx: DispatchContext = {
      builtIns,
      router: this.router,
      guard: createDebugGuard(this.config.debugToken),
      instruments: this.instruments,
      logger: this.logger,
      redact,
    };
    this.probeContext = ctx;
    this.connections = new Connections(this.config, this.instruments, (req, res) => dispatch(ctx, req, res));
    this.http = this.connections.server;
  }

  /** starting → ready → draining → stopped. */
  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  /** The bound port once listening. */
  get port(): number | undefined {
    return this.address?.port;
  }

  /** Adds a readiness/health check. See CheckDefinition for defaults. */
  addCheck(check: CheckDefinition): this {
    this.checks.add(check);
    return this;
  }

  /** Adds a section to /status: `provider()` (sync or async, bounded by statusTimeoutMs) is called per request. */
  addStatus(name: string, provider: StatusProvider): this {
    this.statusProviders.add(name, provider);
    return this;
  }

  /**
   * Readiness stays false until `task` settles successfully (a promise, or a function run now).
   * A failed task keeps the service unready; the reason shows in /readyz?verbose and /status.
   */
  addStartupTask(name: string, task: Promise<unknown> | (() => unknown)): this {
    this.lifecycle.addStartupTask(name, task);
    return this;
  }

  /**
   * Registers a hook run at shutdown, after in-flight requests finished, in reverse registration
   * order (so what started last stops first), each bounded by its timeout.
   */
  onShutdown(name: string, hook: ShutdownHook, options?: ShutdownHookOptions): this;
  onShutdown(hook: ShutdownHook, options?: ShutdownHookOptions): this;
  onShutdown(a: string | ShutdownHook, b?: ShutdownHook | ShutdownHookOptions, c?: ShutdownHookOptions): this {
    if (typeof a === 'string') this.hooks.add(a, b, c);
    else this.hooks.add(undefined, a, b as ShutdownHookOptions | undefined);
    return this;
  }

  /**
   * Adds an app route on the same port (e.g. POST /tasks, GET /tasks/:id, GET /debug/*). Routes
   * under /debug/ require `Authorization: Bearer <debugToken>`. Built-in probe paths cannot be taken.
   */
  route(method: RouteMethod, path: string, handler: RouteHandler): this {
    this.router.add(method, path, handler);
    return this;
  }

  /**
   * Answers `req` if its path is a built-in probe route (/livez, /readyz, /readyz/<check>, /ready,
   * /health, /health/detailed, /metrics, /status) and returns true; returns false (and writes
   * nothing) otherwise. This is how a framework integration mounts the probes on the app's router.
   */
  handleProbe(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (!this.probeContext.builtIns.has(path) && !path.startsWith('/readyz/')) return false;
    dispatch(this.probeContext, req, res);
    return true;
  }

  /**
   * Another node:http server (your Express or Fastify app's) that close() drains with this one:
   * readiness fails first, then after drainDelayMs it stops accepting, its in-flight requests get
   * up to shutdownTimeoutMs, and only then the onShutdown hooks run. Call before close(). With
   * handleSignals, this installs the SIGTERM/SIGINT handlers as listen() does.
   */
  addServer(server: http.Server): this {
    if (this.closing) throw new HealthStateError(`cannot add a server: the server is ${this.state}`);
    if (!this.externals.some((e) => e.server === server)) this.externals.push(new ExternalServer(server));
    // The probes may live on the app's port only (listen() never called): signals still drain.
    if (this.config.handleSignals) this.signals.install();
    return this;
  }

  /** The /health document (checks run, or their results reused within minIntervalMs), e.g. for a framework's own health endpoint. */
  async checkHealth(): Promise<HealthDocument> {
    const results = await this.checks.run();
    const { version, serviceId } = this.config;
    return healthDocument({ state: this.state, results, version, serviceId, uptimeSeconds: process.uptime() });
  }

  /** The service may receive traffic once every startup task has finished. No-op once draining. */
  markReady(): void {
    this.lifecycle.markReady();
  }

  /** Binds host:port; idempotent (concurrent calls share one bind). */
  listen(): Promise<ListenAddress> {
    if (this.closing) return Promise.reject(new HealthStateError(`cannot listen: the server is ${this.state}`));
    this.listening ??= this.bind();
    return this.listening;
  }

  /**
   * Graceful shutdown: readiness fails at once, wait drainDelayMs (only if the service was ready and
   * listening), stop accepting connections, wait up to shutdownTimeoutMs for in-flight requests, run
   * the onShutdown hooks, then `stopped`. Idempotent: every call returns the same promise.
   */
  close(): Promise<ShutdownReport> {
    return this.stop('close()');
  }

  private stop(reason: string): Promise<ShutdownReport> {
    this.closing ??= this.shutdown(reason);
    return this.closing;
  }

  private async bind(): Promise<ListenAddress> {
    const { port, host } = this.config;
    const server = this.http;
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) => {
          server.off('listening', onListening);
          reject(new HealthListenError(host, port, err));
        };
        const onListening = () => {
          server.off('error', onError);
          resolve();
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(port, host);
      });
    } catch (err) {
      this.listening = undefined; // a later listen() may try again
      throw err;
    }
    const bound = server.address();
    const actualPort = typeof bound === 'object' && bound ? bound.port : port;
    this.address = { host, port: actualPort, url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}` };
    if (this.config.handleSignals) this.signals.install();
    this.logger.info('health server listening', { url: this.address.url });
    return this.address;
  }

  private async shutdown(reason: string): Promise<ShutdownReport> {
    const start = performance.now();
    const wasReady = this.state === 'ready';
    this.lifecycle.set('draining');
    this.connections.startDraining();
    this.logger.info('health server draining', { reason });
    let abortedRequests = 0;
    // A bind in progress finishes first, so the listener it opens is closed below.
    await this.listening?.catch(() => undefined);
    if (this.address || this.externals.length > 0) {
      if (wasReady && this.config.drainDelayMs > 0) await sleep(this.config.drainDelayMs);
      const timeout = this.config.shutdownTimeoutMs;
      const counts = await Promise.all([
        this.address ? this.connections.drain(timeout) : 0,
        ...this.externals.map((e) => e.drain(timeout)),
      ]);
      abortedRequests = counts.reduce((a, b) => a + b, 0);
      if (abortedRequests > 0)
        this.logger.warn('requests were still running at shutdownTimeoutMs; their connections were cut', {
          abortedRequests,
        });
    }
    const hooks = await this.hooks.run();
    this.signals.remove();
    this.lifecycle.set('stopped');
    this.logger.info('health server stopped', { reason });
    return { reason, durationMs: performance.now() - start, abortedRequests, hooks };
  }
}

export function createHealthServer(options: HealthServerOptions = {}): HealthServer {
  return new HealthServer(options);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
