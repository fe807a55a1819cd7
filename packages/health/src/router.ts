// App routes on the health server's port: exact segments, `:param` segments and a trailing `*`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HealthConfigError } from './errors';

export type RouteMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
const METHODS = new Set<string>(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface RouteContext {
  /** `:name` segments (URL-decoded) and `*` for the rest of a wildcard route. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The request path without the query string. */
  path: string;
  /** The registered pattern, e.g. '/tasks/:id'. */
  route: string;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => void | Promise<void>;

interface CompiledRoute {
  pattern: string;
  segments: string[];
  wildcard: boolean;
  handlers: Map<string, RouteHandler>;
}

export interface RouteMatch {
  route: CompiledRoute;
  params: Record<string, string>;
}

export class Router {
  private readonly routes: CompiledRoute[] = [];

  constructor(private readonly reserved: (path: string) => boolean) {}

  add(method: string, pattern: string, handler: RouteHandler): void {
    const m = typeof method === 'string' ? method.toUpperCase() : method;
    if (typeof m !== 'string' || !METHODS.has(m))
      throw new HealthConfigError('route method', `one of ${[...METHODS].join(', ')}`, method);
    if (typeof pattern !== 'string' || !/^\/[A-Za-z0-9_.~:*/-]*$/.test(pattern) || pattern.includes('//')) {
      throw new HealthConfigError('route path', "a path like '/tasks' or '/tasks/:id' or '/debug/*'", pattern);
    }
    if (typeof handler !== 'function')
      throw new HealthConfigError('route handler', 'a function (req, res, ctx) => void | Promise<void>', handler);
    const segments = pattern.split('/').slice(1);
    const wildcard = segments[segments.length - 1] === '*';
    if (wildcard) segments.pop();
    if (segments.some((s) => s.includes('*') || s === ':' || (s.includes(':') && !s.startsWith(':')))) {
      throw new HealthConfigError('route path', "a path where '*' only ends it and ':' only starts a segment", pattern);
    }
    if (this.reserved(pattern))
      throw new HealthConfigError('route path', 'a path that is not a built-in probe route', pattern);
    let route = this.routes.find((r) => r.pattern === pattern);
    if (!route) {
      route = { pattern, segments, wildcard, handlers: new Map() };
      this.routes.push(route);
    }
    if (route.handlers.has(m))
      throw new HealthConfigError('route', 'a method and path not already registered', `${m} ${pattern}`);
    route.handlers.set(m, handler);
  }

  /** The first route (in registration order) whose pattern matches `path`, whatever the method. */
  match(path: string): RouteMatch | undefined {
    const parts = path.split('/').slice(1);
    for (const route of this.routes) {
      const params = matchSegments(route, parts);
      if (params) return { route, params };
    }
    return undefined;
  }
}

function matchSegments(route: CompiledRoute, parts: string[]): Record<string, string> | undefined {
  const { segments, wildcard } = route;
  if (wildcard ? parts.length < segments.length : parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s.startsWith(':')) {
      if (parts[i] === '') return undefined;
      try {
        params[s.slice(1)] = decodeURIComponent(parts[i]);
      } catch {
        return undefined;
      }
    } else if (s !== parts[i]) {
      return undefined;
    }
  }
  if (wildcard) params['*'] = parts.slice(segments.length).join('/');
  return params;
}

export function allowedMethods(route: CompiledRoute): string {
  const methods = new Set(route.handlers.keys());
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].join(', ');
}

export function handlerFor(route: CompiledRoute, method: string): RouteHandler | undefined {
  return route.handlers.get(method) ?? (method === 'HEAD' ? route.handlers.get('GET') : undefined);
}
