// @periscope/health/express: RED metrics by route template, a SERVER span per request continuing
// `traceparent` (trace ids on every log line through the active context), the health server's
// probe routes on the app's own router, and graceful shutdown of the app's http.Server.
// Express is an optional peer dependency: only its types are imported here.
import http from 'node:http';
import { context } from '@opentelemetry/api';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { HealthServer } from '../server';
import type { ShutdownReport } from '../shutdown';
import { resolveFrameworkOptions, type FrameworkOptions } from './options';
import {
  INTERNAL_ERROR_BODY,
  beginRequest,
  createRequestMetrics,
  scopeOf,
  statusOf,
  type RequestCounter,
  type RouteOf,
} from './request';

export type ExpressIntegrationOptions = FrameworkOptions;

export interface ExpressIntegration {
  /** `app.use(periscope.middleware)` before any other middleware or route. */
  readonly middleware: RequestHandler;
  /**
   * `app.use(periscope.errorHandler)` after every route: a thrown error becomes its status (5xx by
   * default) with `{"error":"internal error"}`, never the message or stack; 5xx errors mark the span.
   */
  readonly errorHandler: ErrorRequestHandler;
  /** `periscope.attach(app.listen(port))`: health.close() (and SIGTERM) drains this server. */
  attach(server: http.Server): http.Server;
  /** Graceful shutdown: /readyz 503, drain delay, in-flight requests finish, hooks run. Same as `health.close()`. */
  close(): Promise<ShutdownReport>;
  readonly health: HealthServer;
}

/** The route template of a matched request (`/tasks/:id`), mount path included; undefined for a 404. */
export function expressRoute(req: Request): string | undefined {
  const route = req.route as { path?: unknown } | undefined;
  if (!route || typeof route.path !== 'string') return undefined;
  return req.baseUrl + route.path;
}

/** 5xx: a fixed body. 4xx: the message only when the error says it is meant for clients (`expose`, as http-errors sets). */
function errorBody(status: number, err: unknown): string {
  if (status >= 500) return INTERNAL_ERROR_BODY;
  const e = err as { expose?: unknown; message?: unknown } | null;
  const message = e?.expose === true && typeof e.message === 'string' ? e.message : http.STATUS_CODES[status];
  return JSON.stringify({ error: message ?? 'error' });
}

export function periscopeExpress(options: ExpressIntegrationOptions): ExpressIntegration {
  const { health, metrics, probes, trustProxy } = resolveFrameworkOptions(options, 'periscopeExpress');
  const spanOptions = { trustProxy };
  const counter: RequestCounter = { red: createRequestMetrics(metrics), route: expressRoute as RouteOf };
  const middleware: RequestHandler = (req, res, next) => {
    if (probes && health.handleProbe(req, res)) return;
    const scope = beginRequest(req, res, counter, spanOptions);
    if (!scope || scope.context === context.active()) return next();
    // Body parsers continue from the request's 'data'/'end' events: bind them to the request's context.
    context.bind(scope.context, req);
    context.with(scope.context, next);
  };
  const errorHandler: ErrorRequestHandler = (err: unknown, req, res, next) => {
    const status = statusOf(err);
    if (status >= 500) scopeOf(req)?.fail(err);
    if (res.headersSent) return next(err); // Express then cuts the connection: the answer is incomplete
    res.status(status).type('application/json').send(errorBody(status, err));
  };
  return {
    middleware,
    errorHandler,
    health,
    attach(server) {
      health.addServer(server);
      return server;
    },
    close: () => health.close(),
  };
}
