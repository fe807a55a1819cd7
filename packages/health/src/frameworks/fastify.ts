// @periscope/health/fastify: RED metrics by route template, a SERVER span per request continuing
// `traceparent` (trace ids on every log line through the active context), the health server's
// probe routes on the app's own router, and graceful shutdown wired to fastify.close().
// Fastify is an optional peer dependency: only its types are imported here.
import type { IncomingMessage } from 'node:http';
import { context } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
} from './request';

const ROUTE = Symbol('periscope.fastifyRoute');
type RoutedRequest = IncomingMessage & { [ROUTE]?: string };

export type FastifyIntegrationOptions = FrameworkOptions;

export interface FastifyIntegration {
  /** Graceful shutdown: /readyz 503, drain delay, in-flight requests finish, then `app.close()` and the other hooks. Same as `health.close()`. */
  close(): Promise<ShutdownReport>;
  readonly health: HealthServer;
}

/** The probe paths mounted on the app (GET; Fastify adds HEAD). */
export const PROBE_ROUTES: readonly string[] = [
  '/livez',
  '/readyz',
  '/ready',
  '/readyz/:check',
  '/health',
  '/health/detailed',
  '/metrics',
  '/status',
];

/**
 * Instruments `app` (call before `app.listen()`, at the root instance so every route is covered):
 * hooks for spans and metrics, the probe routes, an error handler that never sends a 5xx's message
 * or stack, and the app's server drained by `health.close()`, after which `app.close()` runs.
 */
export function periscopeFastify(app: FastifyInstance, options: FastifyIntegrationOptions): FastifyIntegration {
  const { health, metrics, probes, trustProxy } = resolveFrameworkOptions(options, 'periscopeFastify');
  const spanOptions = { trustProxy };
  // Fastify has matched the route when onRequest runs: the template rides on the raw request.
  const counter: RequestCounter = { red: createRequestMetrics(metrics), route: (raw) => (raw as RoutedRequest)[ROUTE] };
  const probeRoutes = new Set(probes ? PROBE_ROUTES : []);
  app.addHook('onRequest', (request, reply, done) => {
    const url = request.routeOptions.url;
    if (url !== undefined && probeRoutes.has(url)) return done();
    (request.raw as RoutedRequest)[ROUTE] = url;
    const scope = beginRequest(request.raw, reply.raw, counter, spanOptions);
    if (!scope || scope.context === context.active()) return done();
    // The body parser continues from the request's 'data'/'end' events: bind them to the request's context.
    context.bind(scope.context, request.raw);
    context.with(scope.context, done);
  });
  app.addHook('onError', (request, _reply, error, done) => {
    if (statusOf(error) >= 500) scopeOf(request.raw)?.fail(error);
    done();
  });
  app.setErrorHandler((error: unknown, _request: FastifyRequest, reply: FastifyReply) => {
    const status = statusOf(error);
    reply.code(status).type('application/json; charset=utf-8');
    // Fastify's 4xx errors (validation, body parsing) are written for clients; 5xx details never are.
    if (status >= 500) return reply.send(INTERNAL_ERROR_BODY);
    return reply.send({ error: error instanceof Error ? error.message : 'error' });
  });
  for (const path of probeRoutes)
    app.get(path, (request, reply) => {
      reply.hijack();
      if (!health.handleProbe(request.raw, reply.raw)) reply.raw.writeHead(404).end();
    });
  health.addServer(app.server);
  health.onShutdown('fastify', () => app.close());
  return { health, close: () => health.close() };
}
