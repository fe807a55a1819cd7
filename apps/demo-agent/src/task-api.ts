// The demo's HTTP API on the health server's port: POST /tasks runs a task, GET /tasks/:id
// returns a finished one. Bad input gets 400/413/415 with a JSON error naming the problem.
import { context } from '@opentelemetry/api';
import { readJsonBody, type HealthServer } from '@periscope/health';
import { extract, type Tracing } from '@periscope/tracing';
import type { TaskResult } from './agent';

export const MAX_TASK_BODY_BYTES = 64 * 1024;
const MAX_PROMPT_CHARS = 8000;

/** Finished tasks for GET /tasks/:id, oldest dropped first past `capacity`. */
export class TaskStore {
  private readonly tasks = new Map<string, TaskResult>();
  constructor(private readonly capacity = 1000) {}

  add(task: TaskResult): void {
    this.tasks.set(task.id, task);
    if (this.tasks.size > this.capacity) this.tasks.delete(this.tasks.keys().next().value as string);
  }

  get(id: string): TaskResult | undefined {
    return this.tasks.get(id);
  }

  all(): TaskResult[] {
    return [...this.tasks.values()];
  }
}

function sendJson(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

export function addTaskRoutes(
  server: HealthServer,
  runTask: (prompt: string, options: { signal?: AbortSignal }) => Promise<TaskResult>,
  store: TaskStore,
): void {
  server.route('POST', '/tasks', async (req, res) => {
    const body = await readJsonBody(req, { limitBytes: MAX_TASK_BODY_BYTES });
    if (!body || typeof body !== 'object' || Array.isArray(body))
      return sendJson(res, 400, { error: 'request body must be a JSON object like {"prompt": "..."}' });
    const prompt = (body as Record<string, unknown>).prompt;
    if (prompt === undefined) return sendJson(res, 400, { error: 'missing field "prompt"' });
    if (typeof prompt !== 'string')
      return sendJson(res, 400, {
        error: `field "prompt" must be a string, got ${Array.isArray(prompt) ? 'array' : prompt === null ? 'null' : typeof prompt}`,
      });
    if (prompt.trim() === '') return sendJson(res, 400, { error: 'field "prompt" must not be empty' });
    if (prompt.length > MAX_PROMPT_CHARS)
      return sendJson(res, 400, { error: `field "prompt" is longer than ${MAX_PROMPT_CHARS} characters` });
    const ac = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) ac.abort(new Error('client went away'));
    });
    // Continue the caller's trace (a malformed traceparent just starts a new one).
    const task = await context.with(extract(req.headers), () => runTask(prompt, { signal: ac.signal }));
    if (task.status === 'error')
      return sendJson(res, 502, {
        id: task.id,
        error: task.error,
        usage: task.usage,
        durationMs: Math.round(task.durationMs),
      });
    sendJson(res, 200, {
      id: task.id,
      answer: task.answer,
      usage: task.usage,
      durationMs: Math.round(task.durationMs),
    });
  });
  server.route('GET', '/tasks/:id', (_req, res, ctx) => {
    const task = store.get(ctx.params.id);
    if (!task)
      return sendJson(res, 404, { error: `no finished task with id ${JSON.stringify(ctx.params.id.slice(0, 64))}` });
    sendJson(res, 200, task);
  });
}

/** GET /debug/traces (JSON or ?format=tree) and /debug/traces/:id — the server guards /debug/ with a bearer token. */
export function addTraceRoutes(server: HealthServer, tracing: Tracing): void {
  const store = tracing.store;
  if (!store) return;
  server.route('GET', '/debug/traces', (_req, res, ctx) => {
    const q = ctx.query;
    const limit = Math.min(Math.max(Number(q.get('limit') ?? 20) || 20, 1), 200);
    const recent = store.recentTraces({
      errorsOnly: q.has('errors'),
      minDurationMs: Number(q.get('minDurationMs') ?? 0) || 0,
      limit,
    });
    if (q.get('format') === 'tree') {
      const text = recent.map((t) => store.renderTree(t.traceId) ?? '').join('\n');
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(text);
      return;
    }
    sendJson(res, 200, { traces: recent });
  });
  server.route('GET', '/debug/traces/:id', (_req, res, ctx) => {
    const trace = store.getTrace(ctx.params.id);
    if (!trace) return sendJson(res, 404, { error: `no stored trace ${JSON.stringify(ctx.params.id.slice(0, 64))}` });
    if (ctx.query.get('format') === 'tree') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(store.renderTree(trace.traceId));
      return;
    }
    sendJson(res, 200, trace);
  });
}
