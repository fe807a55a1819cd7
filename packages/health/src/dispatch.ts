// Request dispatch: built-in probe routes first (GET/HEAD, no body), then app routes (with the
// /debug/ token guard); a thrown error becomes an answer here, never a crash or a stack trace.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@periscope/core';
import type { DebugGuard } from './debug-guard';
import { HttpError, errorMessage } from './errors';
import type { Instruments } from './instrumentation';
import { send, type BuiltIn } from './probe-routes';
import { JSON_TYPE, TEXT, sendBody } from './respond';
import { allowedMethods, handlerFor, type Router } from './router';

const PROBE_ALLOW = 'GET, HEAD';

export interface DispatchContext {
  builtIns: Map<string, BuiltIn>;
  router: Router;
  guard: DebugGuard;
  instruments: Instruments;
  logger: Logger;
  redact: (value: unknown) => unknown;
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export function dispatch(ctx: DispatchContext, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? undefined : new URLSearchParams(url.slice(q + 1));

  let builtIn = ctx.builtIns.get(path);
  let rest = '';
  let route = path;
  if (!builtIn && path.startsWith('/readyz/')) {
    builtIn = ctx.builtIns.get('/readyz/');
    rest = path.slice('/readyz/'.length);
    route = '/readyz/:check';
  }
  if (!builtIn) return appRoute(ctx, req, res, path, query);
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return send(ctx, res, route, 405, TEXT, 'method not allowed\n', { Allow: PROBE_ALLOW });
  if (hasBody(req)) return send(ctx, res, route, 413, TEXT, 'request body not allowed\n', { Connection: 'close' });
  // Built-in handlers may be async; their errors become a 500 without details.
  const result = builtIn(req, res, query, rest);
  if (result instanceof Promise) result.catch((err: unknown) => fail(ctx, res, route, err, true));
}

function appRoute(
  ctx: DispatchContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams | undefined,
): void {
  const match = ctx.router.match(path);
  if (!match) return fail(ctx, res, 'unmatched', new HttpError(404, 'not found'), true);
  const { route, params } = match;
  const handler = handlerFor(route, req.method ?? 'GET');
  if (!handler) {
    const err = new HttpError(405, 'method not allowed', 'ERR_HEALTH_HTTP', {
      headers: { Allow: allowedMethods(route) },
    });
    return fail(ctx, res, route.pattern, err, true);
  }
  const denied = ctx.guard(req, path);
  if (denied) return fail(ctx, res, route.pattern, denied, true);
  res.once('finish', () => ctx.instruments.request(route.pattern, res.statusCode));
  let result: void | Promise<void>;
  try {
    result = handler(req, res, { params, query: query ?? new URLSearchParams(), path, route: route.pattern });
  } catch (err) {
    return fail(ctx, res, route.pattern, err, false);
  }
  if (result instanceof Promise) result.catch((err: unknown) => fail(ctx, res, route.pattern, err, false));
}

/** Answers a thrown error: HttpError keeps its status, headers and message; anything else is a bare 500. */
function fail(ctx: DispatchContext, res: ServerResponse, route: string, err: unknown, count: boolean): void {
  if (res.headersSent) {
    // Too late for a status code: cut the response so the client sees it is incomplete.
    res.destroy();
    return;
  }
  let code = 500;
  let value: Record<string, string> = { error: 'internal error' };
  let headers: Readonly<Record<string, string>> | undefined;
  if (err instanceof HttpError) {
    code = err.statusCode;
    value = { error: String(ctx.redact(err.message)), code: err.code };
    // The rest of an oversized body is not read: close instead of reusing the connection.
    headers = code === 413 ? { ...err.headers, Connection: 'close' } : err.headers;
  } else {
    ctx.logger.error('request handler failed', { route, error: String(ctx.redact(errorMessage(err))) });
  }
  // App routes count their answer on 'finish'; everything else is counted here.
  if (count) ctx.instruments.request(route, code);
  sendBody(res, code, JSON_TYPE, JSON.stringify(value), headers);
}
