// The agent's tools: what each does, its argument schema, and how it runs.
import { PeriscopeError } from '@periscope/core';
import type { ToolSpec } from '../llm/provider';
import { evaluate } from './calculator';
import { embed, EMBEDDING_DIMENSIONS } from './embedding';
import type { KnowledgeBase } from './knowledge-base';

export interface Tool {
  spec: ToolSpec;
  run(args: Record<string, unknown>, signal?: AbortSignal): Promise<string>;
}

/** A tool call whose arguments were wrong; reported back to the model as the tool's result. */
export class ToolArgumentError extends PeriscopeError<'ERR_DEMO_TOOL_ARGUMENT'> {
  constructor(tool: string, argument: string, expected: string) {
    super('ERR_DEMO_TOOL_ARGUMENT', `${tool}: argument '${argument}' must be ${expected}`);
  }
}

function stringArg(tool: string, args: Record<string, unknown>, name: string): string {
  const v = args[name];
  if (typeof v !== 'string' || v.trim() === '') throw new ToolArgumentError(tool, name, 'a non-empty string');
  return v;
}

export interface ToolDeps {
  knowledgeBase: KnowledgeBase;
  /** Where embeddings come from (the demo puts a cache in front). */
  embed?: (text: string) => Promise<Float32Array>;
}

export function createTools(deps: ToolDeps): Map<string, Tool> {
  const embedText = deps.embed ?? (async (text: string) => embed(text));
  const tools: Tool[] = [
    {
      spec: {
        name: 'calculator',
        description:
          'Evaluates an arithmetic expression (+ - * / % ^, parentheses, sqrt, abs, min, max, round, log, exp).',
        parameters: { type: 'object', properties: { expression: { type: 'string' } }, required: ['expression'] },
      },
      async run(args) {
        return String(evaluate(stringArg('calculator', args, 'expression')));
      },
    },
    {
      spec: {
        name: 'knowledge_base',
        description: 'Searches the operations knowledge base and returns the best matching notes.',
        parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
      },
      async run(args, signal) {
        const hits = await deps.knowledgeBase.search(stringArg('knowledge_base', args, 'query'), 3, signal);
        return hits.length ? hits.map((h) => `[${h.id}] ${h.title}: ${h.snippet}`).join('\n') : 'no matching documents';
      },
    },
    {
      spec: {
        name: 'embedding',
        description: `Embeds a text into a ${EMBEDDING_DIMENSIONS}-dimensional vector and reports its strongest dimensions.`,
        parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      },
      async run(args) {
        const v = await embedText(stringArg('embedding', args, 'text'));
        const top = [...v]
          .map((x, i) => [i, x] as const)
          .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
          .slice(0, 3);
        return `vector[${v.length}] strongest dims ${top.map(([i, x]) => `${i}:${x.toFixed(3)}`).join(', ')}`;
      },
    },
  ];
  return new Map(tools.map((t) => [t.spec.name, t]));
}
