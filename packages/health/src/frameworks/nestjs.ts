// @periscope/health/nestjs: the Express integration, brought in the way Nest users expect —
// `PeriscopeModule.forRoot({ health })` in the root module's imports. No decorators here (the
// package is compiled without experimentalDecorators): the module is a dynamic module whose
// providers are plain objects, and the exception filter is a plain subclass of Nest's own.
//   - a middleware on the Express platform's app, registered while Nest creates its providers, so
//     it runs before Nest's body parser, middleware and guards: probe routes on the app's port, a
//     SERVER span per request continuing `traceparent` (or enriching an auto-instrumented one),
//     the request's context for every log line, RED metrics by the route template Nest registered
//     (global prefix and controller path included, never the raw path), finished when the
//     response closes (SSE streams included);
//   - a global exception filter (APP_FILTER) that extends Nest's BaseExceptionFilter: an error
//     thrown by a handler that Nest answers with a 5xx is recorded on the span, then Nest's own
//     filter writes the answer (never the stack). A filter, not an interceptor: an interceptor puts
//     an rxjs pipeline on every request (it doubled Nest's CPU per hello-world request), a filter
//     runs only when something was thrown;
//   - graceful shutdown in Nest's lifecycle: on app.close() (SIGTERM with enableShutdownHooks())
//     `beforeApplicationShutdown` runs health.close(): /readyz 503, drain delay, in-flight requests
//     finish, health's hooks; then Nest closes the server and runs onApplicationShutdown;
//   - PeriscopeHealthIndicator: the health checks as a @nestjs/terminus indicator result, and
//     `indicators`: terminus-style indicator functions turned into health checks.
// Nest and rxjs are optional peer dependencies, loaded only by this subpath.
import type { IncomingMessage, Server } from 'node:http';
import type { ArgumentsHost, DynamicModule } from '@nestjs/common';
import { APP_FILTER, BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import { HealthConfigError } from '../errors';
import type { HealthServer } from '../server';
import { periscopeExpress } from './express';
import { resolveFrameworkOptions, type FrameworkOptions } from './options';
import { scopeOf, statusOf } from './request';

/** What a @nestjs/terminus health indicator resolves to: one entry per key, `status` up or down. */
export type HealthIndicatorResult = Record<string, { status: 'up' | 'down'; [detail: string]: unknown }>;

/** A terminus-style indicator: resolves to a result (down = failing) or throws (failing). */
export type HealthIndicatorFunction = () => HealthIndicatorResult | Promise<HealthIndicatorResult>;

export interface NestIntegrationOptions extends FrameworkOptions {
  /** Also serve the probes on the health server's own port, opened when the app bootstraps. @default false */
  listen?: boolean;
  /** Terminus-style indicators added as critical health checks (the key is the check's name). @default {} */
  indicators?: Record<string, HealthIndicatorFunction>;
}

/** Injection token of the HealthServer given to forRoot (`@Inject(PERISCOPE_HEALTH)`). */
export const PERISCOPE_HEALTH = 'PERISCOPE_HEALTH';

const WHERE = 'PeriscopeModule.forRoot';

/**
 * Records an error that Nest answers with a 5xx on the request's span (4xx are the client's), then
 * answers as Nest's default filter does. Your own filters still win for the exceptions they catch
 * (Nest tries them first); the span then gets the status code, not the exception.
 */
export class PeriscopeExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() === 'http' && nestStatusOf(exception) >= 500)
      scopeOf(host.switchToHttp().getRequest<IncomingMessage>())?.fail(exception);
    super.catch(exception, host);
  }
}

/** Nest's HttpException carries its status behind getStatus(); anything else not HTTP-shaped is a 500. */
function nestStatusOf(err: unknown): number {
  const e = err as { getStatus?: unknown } | null;
  if (typeof e?.getStatus === 'function') {
    const s: unknown = (e.getStatus as () => unknown).call(e);
    if (typeof s === 'number') return s;
  }
  return statusOf(err);
}

/** The health checks as a @nestjs/terminus indicator (returns down rather than throwing, as terminus 11's HealthIndicatorService). */
export class PeriscopeHealthIndicator {
  constructor(private readonly health: HealthServer) {}

  /** `{ [key]: { status: 'up' | 'down', checks: { <name>: 'pass' | 'warn' | 'fail' } } }`; down when /readyz would fail. */
  async isHealthy(key = 'periscope'): Promise<HealthIndicatorResult> {
    const doc = await this.health.checkHealth();
    const checks: Record<string, string> = {};
    for (const [name, components] of Object.entries(doc.checks))
      if (name !== 'uptime') checks[name.split(':')[0]] = components[0].status;
    return { [key]: { status: doc.status === 'fail' ? 'down' : 'up', checks } };
  }
}

/** Wires the app's server into the health server's shutdown, and shutdown into Nest's lifecycle. */
class PeriscopeLifecycle {
  constructor(
    private readonly health: HealthServer,
    private readonly host: HttpAdapterHost,
    private readonly listen: boolean,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const server = this.host.httpAdapter?.getHttpServer() as Server | undefined;
    if (server) this.health.addServer(server);
    if (this.listen) await this.health.listen();
  }

  /** Before Nest closes the server: readiness fails, then in-flight requests finish. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.health.close();
  }
}

function indicatorCheck(name: string, indicator: HealthIndicatorFunction) {
  return {
    name,
    async run() {
      const result = await indicator();
      const down = Object.entries(result ?? {}).filter(([, v]) => v?.status !== 'up');
      if (down.length === 0) return { status: 'pass' as const };
      return { status: 'fail' as const, output: `down: ${down.map(([k]) => k).join(', ')}` };
    },
  };
}

/** Checks the Nest-only options; the rest are the Express integration's, checked (and used) as they are. */
function resolveNestOptions(options: NestIntegrationOptions) {
  const { listen, indicators, ...framework } = options ?? ({} as NestIntegrationOptions);
  const { health } = resolveFrameworkOptions(framework, WHERE);
  if (listen !== undefined && typeof listen !== 'boolean')
    throw new HealthConfigError(`${WHERE}: listen`, 'a boolean', listen);
  if (indicators !== undefined && (typeof indicators !== 'object' || indicators === null))
    throw new HealthConfigError(`${WHERE}: indicators`, 'an object of indicator functions', indicators);
  for (const [name, fn] of Object.entries(indicators ?? {}))
    if (typeof fn !== 'function') throw new HealthConfigError(`${WHERE}: indicators.${name}`, 'a function', fn);
  return { health, framework, listen: listen ?? false, indicators: indicators ?? {} };
}

/** `imports: [PeriscopeModule.forRoot({ health })]` in the root module. Global: the indicator and health server are injectable everywhere. */
export class PeriscopeModule {
  static forRoot(options: NestIntegrationOptions): DynamicModule {
    const { health, framework, listen, indicators } = resolveNestOptions(options);
    for (const [name, fn] of Object.entries(indicators)) health.addCheck(indicatorCheck(name, fn));
    const mountMiddleware = (host: HttpAdapterHost) => {
      const adapter = host.httpAdapter;
      // An application context or a microservice: no HTTP to instrument, shutdown still drains.
      if (adapter) {
        if (adapter.getType() !== 'express')
          throw new HealthConfigError(
            `${WHERE}: platform`,
            'the Express platform (@nestjs/platform-express)',
            adapter.getType(),
          );
        // Now, while Nest creates providers: before the body parser and every other middleware.
        adapter.use(periscopeExpress(framework).middleware);
      }
      return new PeriscopeLifecycle(health, host, listen);
    };
    return {
      module: PeriscopeModule,
      global: true,
      providers: [
        { provide: PERISCOPE_HEALTH, useValue: health },
        { provide: PeriscopeHealthIndicator, useValue: new PeriscopeHealthIndicator(health) },
        {
          provide: APP_FILTER,
          useFactory: (host: HttpAdapterHost) => new PeriscopeExceptionFilter(host.httpAdapter),
          inject: [HttpAdapterHost],
        },
        { provide: PeriscopeLifecycle, useFactory: mountMiddleware, inject: [HttpAdapterHost] },
      ],
      exports: [PERISCOPE_HEALTH, PeriscopeHealthIndicator],
    };
  }
}
