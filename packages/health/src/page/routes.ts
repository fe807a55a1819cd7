// The status page: GET / (HTML), /page/app.js and /page/app.css (the page's only assets, served
// from the package), and the JSON it reads besides /status and /health: GET /status/traces and
// GET /status/traces/:traceId from the registered trace source, GET /status/profile from the
// registered profile source. Data goes through the server's redactor; access follows createPageAccess.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../errors';
import { sendBody, sendJson, toJson, JSON_TYPE } from '../respond';
import type { Router } from '../router';
import { createPageAccess } from './access';
import { PAGE_CSS, PAGE_HTML } from './assets';
import { PAGE_JS } from './client';
import { createProfileReader, type ProfileSource } from './profile';
import { seriesDocument, type SeriesOptions } from './series';
import { MAX_LIMIT, TRACE_ID, findTraces, parseTraceQuery, type TraceSource } from './traces';

/** Sent with the page and its assets: nothing inline, nothing from elsewhere, no frames. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': PAGE_CSP,
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface PageOptions {
  debugToken: string | undefined;
  redact: (value: unknown) => unknown;
  traces: TraceSource | undefined;
  series: SeriesOptions | undefined;
  profiles: ProfileSource | undefined;
}

function asset(type: string, body: string) {
  return (access: ReturnType<typeof createPageAccess>) =>
    (req: IncomingMessage, res: ServerResponse): void => {
      access.shell(req);
      sendBody(res, 200, type, body, PAGE_HEADERS);
    };
}

export function mountPage(router: Router, options: PageOptions): void {
  const access = createPageAccess(options.debugToken);
  const { traces, redact, series } = options;
  router.add('GET', '/', asset('text/html; charset=utf-8', PAGE_HTML)(access));
  router.add('GET', '/page/app.js', asset('text/javascript; charset=utf-8', PAGE_JS)(access));
  router.add('GET', '/page/app.css', asset('text/css; charset=utf-8', PAGE_CSS)(access));
  router.add('GET', '/status/traces', (req, res, { query }) => {
    access.data(req);
    const q = parseTraceQuery(query);
    const list = traces ? findTraces(traces, q) : [];
    const body = { available: traces !== undefined, traces: list, maxLimit: MAX_LIMIT };
    sendBody(res, 200, JSON_TYPE, toJson(redact(body)), PAGE_HEADERS);
  });
  router.add('GET', '/status/series', (req, res, { query }) => {
    access.data(req);
    const name = query.get('name');
    if (!series && name !== null) throw new HttpError(404, 'no metrics history is registered (server option series)');
    const body = !series ? { names: [] } : name === null ? { names: series.names } : seriesDocument(series, name);
    sendBody(res, 200, JSON_TYPE, toJson(body), PAGE_HEADERS);
  });
  const profile = createProfileReader(options.profiles, redact);
  router.add('GET', '/status/profile', (req, res) => {
    access.data(req);
    const { body, etag } = profile();
    // The page polls with the last ETag (it caches nothing itself): the same window is a 304 with no body.
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { ETag: etag, 'Cache-Control': 'no-store', ...PAGE_HEADERS });
      res.end();
      return;
    }
    sendBody(res, 200, JSON_TYPE, body, { ...PAGE_HEADERS, ETag: etag });
  });
  router.add('GET', '/status/traces/:traceId', (req, res, { params }) => {
    access.data(req);
    if (!traces) throw new HttpError(404, 'no trace source is registered (server option traces)');
    if (!TRACE_ID.test(params.traceId)) throw new HttpError(400, 'traceId must be 32 lowercase hex characters');
    const trace = traces.getTrace(params.traceId);
    if (trace === undefined) throw new HttpError(404, 'no such trace in the store (it may have been evicted)');
    sendJson(res, 200, redact(trace), PAGE_HEADERS);
  });
}
