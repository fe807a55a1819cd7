// The demo's HTTP API on the health server's port: POST /tasks runs a task (behind admission
// control), GET /tasks/:id returns a finished one, /debug/traces shows stored traces. Answers use
// health's sendJson; bad input is an HttpError (400/413/415/429/503) whose JSON names the problem.
import type { ServerResponse } from 'node:http';
import { context } from '@opentelemetry/api';
import { HttpError, readJsonBody, sendJson, sendText, type HealthServer } from '@periscope/health';
import { extract, type Tracing } from '@periscope/tracing';
import type { AdmissionController } from './admission';
import type { TaskResult } from './agent';
import { DELEGATION_DEPTH_HEADER, delegationDepth, parseDelegationDepth } from './tools/delegate';

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

type DemoHttpCode = 'ERR_DEMO_INVALID_TASK' | 'ERR_DEMO_INVALID_PARAMETER' | 'ERR_DEMO_NOT_FOUND';

const badTask = (message: string) => new HttpError<DemoHttpCode>(400, message, 'ERR_DEMO_INVALID_TASK');
const badParameter = (name: string, expected: string, got: string) =>
  new HttpError<DemoHttpCode>(
    400,
    `query parameter "${name}" must be ${expected}, got ${JSON.stringify(got.slice(0, 64))}`,
    'ERR_DEMO_INVALID_PARAMETER',
  );
const notFound = (message: string) => new HttpError<DemoHttpCode>(404, message, 'ERR_DEMO_NOT_FOUND');

function describeType(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

/** The prompt of a POST /tasks body, or an HttpError naming what is wrong with it. */
export function parsePrompt(body: unknown): string {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw badTask('request body must be a JSON object like {"prompt": "..."}');
  const prompt = (body as Record<string, unknown>).prompt;
  if (prompt === undefined) throw badTask('missing field "prompt"');
  if (typeof prompt !== 'string') throw badTask(`field "prompt" must be a string, got ${describeType(prompt)}`);
  if (prompt.trim() === '') throw badTask('field "prompt" must not be empty');
  if (prompt.length > MAX_PROMPT_CHARS) throw badTask(`field "prompt" is longer than ${MAX_PROMPT_CHARS} characters`);
  // PostgreSQL text cannot hold NUL: refuse it here rather than answer 200 and lose the task's memory row.
  if (prompt.includes('\u0000')) throw badTask('field "prompt" must not contain NUL (\\u0000) characters');
  return prompt;
}

export function addTaskRoutes(
  server: HealthServer,
  runTask: (prompt: string, options: { signal?: AbortSignal }) => Promise<TaskResult>,
  store: TaskStore,
  admission: AdmissionController,
): void {
  server.route('POST', '/tasks', async (req, res) => {
    const prompt = parsePrompt(await readJsonBody(req, { limitBytes: MAX_TASK_BODY_BYTES }));
    const ac = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) ac.abort(new Error('client went away'));
    });
    // Continue the caller's trace (a malformed traceparent just starts a new one), at the caller's delegation depth.
    const depth = parseDelegationDepth(req.headers[DELEGATION_DEPTH_HEADER]);
    const task = await admission.run(
      () =>
        delegationDepth.run(depth, () =>
          context.with(extract(req.headers), () => runTask(prompt, { signal: ac.signal })),
        ),
      ac.signal,
    );
    const summary = { id: task.id, usage: task.usage, durationMs: Math.round(task.durationMs) };
    if (task.status === 'error') return sendJson(res, 502, { ...summary, error: task.error, retries: task.retries });
    sendJson(res, 200, { id: task.id, answer: task.answer, usage: task.usage, durationMs: summary.durationMs });
  });
  server.route('GET', '/tasks/:id', (_req, res, ctx) => {
    const task = store.get(ctx.params.id);
    if (!task) throw notFound(`no finished task with id ${JSON.stringify(ctx.params.id.slice(0, 64))}`);
    sendJson(res, 200, task);
  });
}

const TRACE_ID = /^[0-9a-f]{32}$/;

/** `?limit=` (1-200, default 20) and `?minDurationMs=` (>= 0, default 0) of /debug/traces. */
export function traceQuery(q: URLSearchParams): { limit: number; minDurationMs: number; errorsOnly: boolean } {
  const limitText = q.get('limit') ?? '20';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 200)
    throw badParameter('limit', 'an integer from 1 to 200', limitText);
  const minText = q.get('minDurationMs') ?? '0';
  const minDurationMs = Number(minText);
  if (!/^\d+(\.\d+)?$/.test(minText) || !Number.isFinite(minDurationMs))
    throw badParameter('minDurationMs', 'a number of milliseconds >= 0', minText);
  return { limit, minDurationMs, errorsOnly: q.has('errors') };
}

function sendTree(res: ServerResponse, text: string): void {
  sendText(res, 200, text);
}

/** GET /debug/traces (JSON or ?format=tree) and /debug/traces/:id — the server guards /debug/ with a bearer token. */
export function addTraceRoutes(server: HealthServer, tracing: Tracing): void {
  const store = tracing.store;
  if (!store) return;
  server.route('GET', '/debug/traces', (_req, res, ctx) => {
    const recent = store.recentTraces(traceQuery(ctx.query));
    if (ctx.query.get('format') === 'tree')
      return sendTree(res, recent.map((t) => store.renderTree(t.traceId) ?? '').join('\n'));
    sendJson(res, 200, { traces: recent });
  });
  server.route('GET', '/debug/traces/:id', (_req, res, ctx) => {
    const id = ctx.params.id.toLowerCase();
    if (!TRACE_ID.test(id) || /^0+$/.test(id))
      throw new HttpError<DemoHttpCode>(
        400,
        `path parameter "id" must be a W3C trace id (32 hex digits, not all zero), got ${JSON.stringify(ctx.params.id.slice(0, 64))}`,
        'ERR_DEMO_INVALID_PARAMETER',
      );
    const trace = store.getTrace(id);
    if (!trace) throw notFound(`no stored trace ${id}`);
    if (ctx.query.get('format') === 'tree') return sendTree(res, store.renderTree(trace.traceId) ?? '');
    sendJson(res, 200, trace);
  });
}
