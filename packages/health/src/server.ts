// The health server: probe routes, app routes, and the starting → ready → draining → stopped lifecycle.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createMetrics, type Metrics } from '@periscope/metrics';
import { redact as defaultRedact } from '@periscope/logging';
import { CheckRegistry, type CheckDefinition } from './checks';
import {
  STDERR_LOGGER,
  resolveConfig,
  validateMs,
  validateName,
  type HealthLogger,
  type HealthServerOptions,
  type ResolvedConfig,
} from './config';
import { HealthConfigError, HealthError, HealthStateError, HttpError, errorMessage } from './errors';
import { createInstruments, type Instruments, type LifecycleState } from './instruments';
import { checkLine, excludedNames, healthDocument, isReady, toJson } from './probes';
import { Router, allowedMethods, handlerFor, type RouteHandler, type RouteMethod } from './router';
import { withTimeout } from './timeout';

export type StatusProvider = () => unknown;
export type ShutdownHook = () => unknown;

export interface ShutdownHookOptions {
  /** Bound on this hook; default the server's hookTimeoutMs. */
  timeoutMs?: number;
}

export interface ListenAddress {
  host: string;
  port: number;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
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

const PROBE_ALLOW = 'GET, HEAD';
const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const HEALTH_JSON = 'application/health+json';
const NO_STORE = 'no-store';
const RESERVED_STATUS_KEYS = new Set([
  'service',
  'version',
  'state',
  'uptimeSeconds',
  'startedAt',
  'time',
  'pid',
  'node',
  'startup',
  'checks',
]);
const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };

type BuiltIn = (
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams | undefined,
  rest: string,
) => void | Promise<void>;

interface StartupTask {
  state: 'pending' | 'done' | 'failed';
  error?: string;
}

export class HealthServer {
  /** The underlying node:http server (e.g. to attach an 'upgrade' handler). */
  readonly http: http.Server;
  private readonly config: ResolvedConfig;
  private readonly metrics: Metrics | undefined;
  private readonly instruments: Instruments;
  private readonly logger: HealthLogger | undefined;
  private readonly redact: (value: unknown) => unknown;
  private readonly checks: CheckRegistry;
  private readonly router: Router;
  private readonly builtIns: Map<string, BuiltIn>;
  private readonly statusProviders = new Map<string, StatusProvider>();
  private readonly hooks: { name: string; fn: ShutdownHook; timeoutMs: number }[] = [];
  private readonly startupTasks = new Map<string, StartupTask>();
  private readonly debugTokenHash: Buffer | undefined;
  private currentState: LifecycleState = 'starting';
  private readyRequested = false;
  private address: ListenAddress | undefined;
  private listening: Promise<ListenAddress> | undefined;
  private inFlight = 0;
  private drainWaiter: (() => void) | undefined;
  private closing: Promise<ShutdownReport> | undefined;
  private signalHandler: ((signal: NodeJS.Signals) => void) | undefined;
  private signalReceived: NodeJS.Signals | undefined;

  constructor(options: HealthServerOptions = {}) {
    this.config = resolveConfig(options);
    this.metrics = options.metrics === false ? undefined : (options.metrics ?? createMetrics());
    this.instruments = createInstruments(this.metrics);
    this.logger = options.logger ?? (this.config.handleSignals ? STDERR_LOGGER : undefined);
    this.redact = options.redact ?? defaultRedact;
    this.checks = new CheckRegistry(this.instruments, this.redact);
    this.debugTokenHash = this.config.debugToken === undefined ? undefined : sha256(this.config.debugToken);
    this.builtIns = new Map<string, BuiltIn>([
      ['/livez', (_req, res, q) => this.livez(res, q)],
      ['/readyz', (_req, res, q) => this.readyz(res, q)],
      ['/ready', (_req, res, q) => this.readyz(res, q)],
      ['/readyz/', (_req, res, q, rest) => this.readyzOne(res, q, rest)],
      ['/health', (_req, res, q) => this.health(res, q)],
      ['/health/detailed', (_req, res, q) => this.health(res, q)],
      ['/metrics', (req, res) => this.metricsRoute(req, res)],
      ['/status', (_req, res) => this.status(res)],
    ]);
    this.router = new Router((p) => this.builtIns.has(p) || p.startsWith('/readyz/'));
    // Probes and app requests arrive whole within seconds; shorter bounds than Node's defaults
    // (60 s headers, 300 s request) keep slow-sending clients from holding sockets.
    this.http = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) =>
      this.onRequest(req, res),
    );
    this.instruments.state('starting');
  }

  /** starting → ready → draining → stopped. */
  get state(): LifecycleState {
    return this.currentState;
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
    validateName('status name', name);
    if (RESERVED_STATUS_KEYS.has(name))
      throw new HealthConfigError(
        'status name',
        `${JSON.stringify(name)} is reserved; reserved names: ${[...RESERVED_STATUS_KEYS].join(', ')}`,
      );
    if (this.statusProviders.has(name))
      throw new HealthConfigError(
        'status name',
        `a status provider named ${JSON.stringify(name)} is already registered`,
      );
    if (typeof provider !== 'function')
      throw new HealthConfigError(`status ${name}`, 'expected a function () => unknown');
    this.statusProviders.set(name, provider);
    return this;
  }

  /**
   * Readiness stays false until `task` settles successfully (a promise, or a function run now).
   * A failed task keeps the service unready; the reason shows in /readyz?verbose and /status.
   */
  addStartupTask(name: string, task: Promise<unknown> | (() => unknown)): this {
    validateName('startup task name', name);
    if (this.currentState !== 'starting')
      throw new HealthStateError(
        `cannot add startup task ${JSON.stringify(name)}: the server is already ${this.currentState}`,
      );
    if (this.startupTasks.has(name))
      throw new HealthConfigError(
        'startup task name',
        `a startup task named ${JSON.stringify(name)} is already registered`,
      );
    if (typeof task !== 'function' && !(task instanceof Promise))
      throw new HealthConfigError(`startup task ${name}`, 'expected a promise or a function');
    const entry: StartupTask = { state: 'pending' };
    this.startupTasks.set(name, entry);
    const promise = typeof task === 'function' ? Promise.resolve().then(task) : task;
    promise.then(
      () => {
        entry.state = 'done';
        this.maybeReady();
      },
      (err: unknown) => {
        entry.state = 'failed';
        entry.error = String(this.redact(errorMessage(err)));
        this.logger?.error('startup task failed; the service stays unready', { task: name, error: entry.error });
      },
    );
    return this;
  }

  /**
   * Registers a hook run at shutdown, after in-flight requests finished, in reverse registration
   * order (so what started last stops first), each bounded by its timeout.
   */
  onShutdown(name: string, hook: ShutdownHook, options?: ShutdownHookOptions): this;
  onShutdown(hook: ShutdownHook, options?: ShutdownHookOptions): this;
  onShutdown(a: string | ShutdownHook, b?: ShutdownHook | ShutdownHookOptions, c?: ShutdownHookOptions): this {
    const named = typeof a === 'string';
    const fn = named ? b : a;
    const options = (named ? c : b) as ShutdownHookOptions | undefined;
    if (typeof fn !== 'function')
      throw new HealthConfigError('onShutdown hook', 'expected a function () => unknown | Promise<unknown>');
    const name = named ? validateName('onShutdown name', a) : fn.name || `hook-${this.hooks.length + 1}`;
    const timeoutMs = validateMs(`onShutdown ${name}: timeoutMs`, options?.timeoutMs, this.config.hookTimeoutMs, 1);
    this.hooks.push({ name, fn, timeoutMs });
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

  /** The service may receive traffic once every startup task has finished. No-op once draining. */
  markReady(): void {
    this.readyRequested = true;
    this.maybeReady();
  }

  /** Binds host:port; idempotent (concurrent calls share one bind). */
  listen(): Promise<ListenAddress> {
    if (this.closing) return Promise.reject(new HealthStateError(`cannot listen: the server is ${this.currentState}`));
    this.listening ??= this.bind();
    return this.listening;
  }

  private async bind(): Promise<ListenAddress> {
    const { port, host } = this.config;
    const server = this.http;
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) => {
          server.off('listening', onListening);
          reject(
            new HealthError('HEALTH_LISTEN_FAILED', `cannot listen on ${host}:${port}: ${err.code ?? err.message}`),
          );
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
    if (this.config.handleSignals) this.installSignalHandlers();
    this.logger?.info('health server listening', { url: this.address.url });
    return this.address;
  }

  /**
   * Graceful shutdown: readiness fails at once, wait drainDelayMs (only if the service was ready and
   * listening), stop accepting connections, wait up to shutdownTimeoutMs for in-flight requests, run
   * the onShutdown hooks, then `stopped`. Idempotent: every call returns the same promise.
   */
  close(): Promise<ShutdownReport> {
    this.closing ??= this.shutdown('close()');
    return this.closing;
  }

  private async shutdown(reason: string): Promise<ShutdownReport> {
    const start = performance.now();
    const wasReady = this.currentState === 'ready';
    this.setState('draining');
    this.logger?.info('health server draining', { reason });
    let abortedRequests = 0;
    // A bind in progress finishes first, so the listener it opens is closed below.
    await this.listening?.catch(() => undefined);
    if (this.address) {
      if (wasReady && this.config.drainDelayMs > 0) await sleep(this.config.drainDelayMs);
      const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
      this.http.closeIdleConnections();
      if (this.inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.config.shutdownTimeoutMs);
          this.drainWaiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.drainWaiter = undefined;
      }
      abortedRequests = this.inFlight;
      if (abortedRequests > 0)
        this.logger?.warn('requests still running at shutdownTimeoutMs; cutting their connections', {
          abortedRequests,
        });
      this.http.closeAllConnections();
      await closed;
    }
    const hooks: HookReport[] = [];
    for (const hook of [...this.hooks].reverse()) {
      const t = performance.now();
      try {
        await withTimeout(`onShutdown ${hook.name}`, hook.timeoutMs, () => hook.fn());
        hooks.push({ name: hook.name, ok: true, durationMs: performance.now() - t });
      } catch (err) {
        const error = String(this.redact(errorMessage(err)));
        this.instruments.hookFailure(hook.name);
        this.logger?.error('onShutdown hook failed', { hook: hook.name, error });
        hooks.push({ name: hook.name, ok: false, durationMs: performance.now() - t, error });
      }
    }
    this.removeSignalHandlers();
    this.setState('stopped');
    this.logger?.info('health server stopped', { reason });
    return { reason, durationMs: performance.now() - start, abortedRequests, hooks };
  }

  private installSignalHandlers(): void {
    if (this.signalHandler) return;
    this.signalHandler = (signal) => {
      if (this.signalReceived) {
        // Second signal: the operator wants out now.
        this.logger?.warn('second signal during shutdown; exiting now', { signal });
        process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 1));
      }
      this.signalReceived = signal;
      this.closing ??= this.shutdown(signal);
      this.closing.then(
        () => process.exit(0),
        (err: unknown) => {
          this.logger?.error('shutdown failed', { error: errorMessage(err) });
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', this.signalHandler);
    process.on('SIGINT', this.signalHandler);
  }

  private removeSignalHandlers(): void {
    if (!this.signalHandler) return;
    process.off('SIGTERM', this.signalHandler);
    process.off('SIGINT', this.signalHandler);
    this.signalHandler = undefined;
  }

  private setState(state: LifecycleState): void {
    this.currentState = state;
    this.instruments.state(state);
  }

  private maybeReady(): void {
    if (this.currentState !== 'starting' || !this.readyRequested) return;
    for (const t of this.startupTasks.values()) if (t.state !== 'done') return;
    this.setState('ready');
    this.logger?.info('health server ready');
  }

  // ---- request handling ----

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.inFlight++;
    res.once('close', () => {
      this.inFlight--;
      if (this.closing) {
        // A keep-alive socket that just went idle must not hold the shutdown.
        this.http.closeIdleConnections();
        if (this.inFlight === 0) this.drainWaiter?.();
      }
    });
    if (this.closing) res.setHeader('Connection', 'close');
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = q === -1 ? undefined : new URLSearchParams(url.slice(q + 1));

    let builtIn = this.builtIns.get(path);
    let rest = '';
    if (!builtIn && path.startsWith('/readyz/')) {
      builtIn = this.builtIns.get('/readyz/');
      rest = path.slice('/readyz/'.length);
    }
    if (builtIn) {
      const route = builtIn === this.builtIns.get('/readyz/') ? '/readyz/:check' : path;
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return this.send(res, route, 405, TEXT, 'method not allowed\n', { Allow: PROBE_ALLOW });
      if (hasBody(req)) return this.send(res, route, 413, TEXT, 'request body not allowed\n', { Connection: 'close' });
      this.guard(res, route, builtIn(req, res, query, rest));
      return;
    }
    this.appRoute(req, res, path, query);
  }

  private appRoute(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams | undefined): void {
    const match = this.router.match(path);
    if (!match) return this.sendJson(res, 'unmatched', 404, { error: 'not found' });
    const { route, params } = match;
    const handler = handlerFor(route, req.method ?? 'GET');
    if (!handler)
      return this.sendJson(res, route.pattern, 405, { error: 'method not allowed' }, { Allow: allowedMethods(route) });
    if (path === '/debug' || path.startsWith('/debug/')) {
      if (!this.debugTokenHash)
        return this.sendJson(res, route.pattern, 403, {
          error: 'debug endpoints are disabled: set the debugToken option or PERISCOPE_DEBUG_TOKEN',
        });
      if (!bearerMatches(req.headers.authorization, this.debugTokenHash)) {
        return this.sendJson(
          res,
          route.pattern,
          401,
          { error: 'a valid bearer token is required' },
          { 'WWW-Authenticate': 'Bearer' },
        );
      }
    }
    res.once('finish', () => this.instruments.request(route.pattern, res.statusCode));
    let result: void | Promise<void>;
    try {
      result = handler(req, res, { params, query: query ?? new URLSearchParams(), path, route: route.pattern });
    } catch (err) {
      return this.fail(res, route.pattern, err, false);
    }
    if (result instanceof Promise) result.catch((err: unknown) => this.fail(res, route.pattern, err, false));
  }

  /** Built-in handlers may be async; their errors become a 500 without details. */
  private guard(res: ServerResponse, route: string, result: void | Promise<void>): void {
    if (result instanceof Promise) result.catch((err: unknown) => this.fail(res, route, err, true));
  }

  /** Answers a thrown error: HttpError keeps its status and message; anything else is a bare 500. */
  private fail(res: ServerResponse, route: string, err: unknown, builtIn: boolean): void {
    if (res.headersSent) {
      // Too late for a status code: cut the response so the client sees it is incomplete.
      res.destroy();
      return;
    }
    let code = 500;
    let value: Record<string, string> = { error: 'internal error' };
    let headers: Record<string, string> | undefined;
    if (err instanceof HttpError) {
      code = err.statusCode;
      value = { error: String(this.redact(err.message)), code: err.code };
      // The rest of an oversized body is not read: close instead of reusing the connection.
      if (code === 413) headers = { Connection: 'close' };
    } else {
      this.logger?.error('request handler failed', { route, error: String(this.redact(errorMessage(err))) });
    }
    // App routes count their answer on 'finish'; built-ins count in send().
    if (builtIn) this.send(res, route, code, JSON_TYPE, JSON.stringify(value), headers);
    else this.write(res, code, JSON_TYPE, JSON.stringify(value), headers);
  }

  private send(
    res: ServerResponse,
    route: string,
    code: number,
    type: string,
    body: string,
    headers?: Record<string, string>,
  ): void {
    this.instruments.request(route, code);
    this.write(res, code, type, body, headers);
  }

  private write(res: ServerResponse, code: number, type: string, body: string, headers?: Record<string, string>): void {
    res.writeHead(code, {
      'Content-Type': type,
      'Cache-Control': NO_STORE,
      'X-Content-Type-Options': 'nosniff',
      ...headers,
    });
    res.end(body);
  }

  private sendJson(
    res: ServerResponse,
    route: string,
    code: number,
    value: unknown,
    headers?: Record<string, string>,
  ): void {
    this.send(res, route, code, JSON_TYPE, JSON.stringify(value), headers);
  }

  // ---- built-in routes ----

  private livez(res: ServerResponse, query: URLSearchParams | undefined): void {
    // Answering at all proves the event loop turns; dependencies do not belong in liveness.
    if (!query?.has('verbose')) return this.send(res, '/livez', 200, TEXT, 'ok');
    const ping = excludedNames(query).has('ping') ? '[+]ping excluded: ok' : '[+]ping ok';
    this.send(res, '/livez', 200, TEXT, `${ping}\nlivez check passed\n`);
  }

  private lifecycleLine(): string {
    if (this.currentState === 'ready') return '[+]lifecycle ok';
    let why = `state is ${this.currentState}`;
    if (this.currentState === 'starting') {
      const pending = [...this.startupTasks]
        .filter(([, t]) => t.state !== 'done')
        .map(([n, t]) => (t.state === 'failed' ? `${n} failed: ${t.error}` : n));
      if (pending.length) why += `; startup tasks not done: ${pending.join(', ')}`;
      else if (!this.readyRequested) why += '; markReady() not called yet';
    }
    return `[-]lifecycle failed: ${why}`;
  }

  private async readyz(res: ServerResponse, query: URLSearchParams | undefined): Promise<void> {
    const excluded = excludedNames(query);
    // Draining: fail at once without touching dependencies that are about to close.
    const running = this.currentState === 'starting' || this.currentState === 'ready';
    const results = running ? await this.checks.run(this.checks.names.filter((n) => !excluded.has(n))) : [];
    const ok = isReady(this.currentState, results);
    const route = '/readyz';
    if (ok && !query?.has('verbose')) return this.send(res, route, 200, TEXT, 'ok');
    const lines = [this.lifecycleLine(), ...results.map(checkLine)];
    for (const n of excluded)
      lines.push(
        this.checks.has(n)
          ? `[+]${n} excluded: ok`
          : `warn: some health checks cannot be excluded: no matches for "${n}"`,
      );
    lines.push(`readyz check ${ok ? 'passed' : 'failed'}`);
    this.send(res, route, ok ? 200 : 503, TEXT, lines.join('\n') + '\n');
  }

  private async readyzOne(res: ServerResponse, query: URLSearchParams | undefined, name: string): Promise<void> {
    const route = '/readyz/:check';
    if (!this.checks.has(name))
      return this.send(res, route, 404, TEXT, `no check named ${JSON.stringify(name.slice(0, 64))}\n`);
    const [r] = await this.checks.run([name]);
    const ok = r.status !== 'fail';
    if (ok && !query?.has('verbose')) return this.send(res, route, 200, TEXT, 'ok');
    this.send(res, route, ok ? 200 : 503, TEXT, `${checkLine(r)}\nreadyz check ${ok ? 'passed' : 'failed'}\n`);
  }

  private async health(res: ServerResponse, query: URLSearchParams | undefined): Promise<void> {
    const excluded = excludedNames(query);
    const results = await this.checks.run(this.checks.names.filter((n) => !excluded.has(n)));
    const doc = healthDocument({
      state: this.currentState,
      results,
      version: this.config.version,
      serviceId: this.config.serviceId,
      uptimeSeconds: process.uptime(),
    });
    this.send(res, '/health', doc.status === 'fail' ? 503 : 200, HEALTH_JSON, JSON.stringify(doc));
  }

  private async metricsRoute(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.metrics) return this.send(res, '/metrics', 404, TEXT, 'metrics are disabled\n');
    const { contentType, body } = await this.metrics.expose(req.headers.accept);
    this.send(res, '/metrics', 200, contentType, body);
  }

  private async status(res: ServerResponse): Promise<void> {
    const doc: Record<string, unknown> = {
      service: this.config.serviceId,
      version: this.config.version,
      state: this.currentState,
      // Process uptime, as in /health: the service started with the process, not with this server.
      uptimeSeconds: Math.round(process.uptime()),
      startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
      time: new Date().toISOString(),
      pid: process.pid,
      node: process.version,
      startup: Object.fromEntries(
        [...this.startupTasks].map(([n, t]) => [
          n,
          t.error === undefined ? t.state : { state: t.state, error: t.error },
        ]),
      ),
      checks: this.checks.lastResults(),
    };
    const sections = await Promise.all(
      [...this.statusProviders].map(async ([name, provider]) => {
        try {
          return [name, await withTimeout(`status ${name}`, this.config.statusTimeoutMs, () => provider())] as const;
        } catch (err) {
          return [name, { error: errorMessage(err) }] as const;
        }
      }),
    );
    for (const [name, value] of sections) doc[name] = value;
    let body: string;
    try {
      body = toJson(this.redact(doc));
    } catch (err) {
      return this.sendJson(res, '/status', 500, {
        error: `status document cannot be serialized: ${errorMessage(err)}`,
      });
    }
    this.send(res, '/status', 200, JSON_TYPE, body);
  }
}

export function createHealthServer(options: HealthServerOptions = {}): HealthServer {
  return new HealthServer(options);
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares hashes so the comparison takes the same time whatever the token's length or prefix. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m !== null && timingSafeEqual(sha256(m[1]), expected);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
