// The `delegate` tool: hands a sub-task to a peer agent (another replica, or another service) with
// POST {peer}/tasks. The request runs in a CLIENT span and carries the task's trace context, so
// the peer's work is part of the same trace. Bounded: a timeout, and at most MAX_ANSWER_CHARS of
// the peer's answer go back to the model.
import { AsyncLocalStorage } from 'node:async_hooks';
import { PeriscopeError } from '@periscope/core';
import { tracedFetch } from '@periscope/tracing';
import type { Tool } from './index';

export const DELEGATE_TOOL = 'delegate';
const MAX_TASK_CHARS = 4000;
const MAX_ANSWER_CHARS = 2000;
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * How many agents a task has already passed through. Two agents that delegate to each other (or a
 * model that keeps delegating) would otherwise bounce one task between them for ever: each hop
 * sends its depth + 1, and an agent at MAX_DELEGATION_DEPTH answers the sub-task itself.
 */
export const DELEGATION_DEPTH_HEADER = 'x-periscope-delegation-depth';
export const MAX_DELEGATION_DEPTH = 2;
/** The depth of the task being run; set by POST /tasks from the caller's header. */
export const delegationDepth = new AsyncLocalStorage<number>();

/** The header's depth: a small non-negative integer; anything else (hostile or garbled) counts as 0. */
export function parseDelegationDepth(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,3}$/.test(value)) return 0;
  return Number(value);
}

/** The peer could not be reached or did not finish the sub-task; reported to the model as the tool's result. */
export class DelegationError extends PeriscopeError<'ERR_DEMO_DELEGATION'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_DEMO_DELEGATION', message, options);
  }
}

export interface DelegateToolOptions {
  /** Base URL of the peer agent (its POST /tasks answers the sub-task). */
  peerUrl: string;
  /** Per sub-task. @default 60000 */
  timeoutMs?: number;
  /** For tests. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
}

async function readBounded(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new DelegationError(`the peer's answer exceeds ${MAX_RESPONSE_BYTES} bytes`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

export function createDelegateTool(options: DelegateToolOptions): Tool {
  const endpoint = new URL('tasks', options.peerUrl.endsWith('/') ? options.peerUrl : `${options.peerUrl}/`);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const send = tracedFetch(options.fetch ?? globalThis.fetch, { urlTemplate: () => '/tasks' });
  return {
    spec: {
      name: DELEGATE_TOOL,
      description: 'Hands a self-contained sub-task to a peer agent and returns its answer.',
      parameters: { type: 'object', properties: { task: { type: 'string' } }, required: ['task'] },
    },
    async run(args, signal) {
      const task = args.task;
      if (typeof task !== 'string' || task.trim() === '' || task.length > MAX_TASK_CHARS)
        throw new DelegationError(`delegate: argument 'task' must be a non-empty string of at most ${MAX_TASK_CHARS}`);
      const depth = delegationDepth.getStore() ?? 0;
      if (depth >= MAX_DELEGATION_DEPTH)
        throw new DelegationError(`this task was already delegated ${depth} times (the limit): answer it here`);
      const timeout = AbortSignal.timeout(timeoutMs);
      let response: Response;
      try {
        response = await send(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [DELEGATION_DEPTH_HEADER]: String(depth + 1) },
          body: JSON.stringify({ prompt: task }),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (err) {
        throw new DelegationError(`the peer agent at ${endpoint.origin} could not be reached`, { cause: err });
      }
      const text = await readBounded(response);
      let body: { answer?: unknown; error?: unknown } = {};
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        // Not JSON: reported below by status.
      }
      if (!response.ok || typeof body.answer !== 'string') {
        const reason = typeof body.error === 'string' ? `: ${body.error.slice(0, 200)}` : '';
        throw new DelegationError(`the peer agent answered ${response.status}${reason}`);
      }
      return body.answer.slice(0, MAX_ANSWER_CHARS);
    },
  };
}
