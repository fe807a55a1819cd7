import { SpanKind } from '@opentelemetry/api';
import { trace, traceAgent, traceLlmCall, traceTool, TracingInputError, type Tracing } from '../src';
import { sleep, startMemory } from './helpers';

const openAiResult = {
  id: 'chatcmpl-1',
  model: 'gpt-4o-2024-08-06',
  usage: { prompt_tokens: 120, completion_tokens: 30 },
  choices: [{ finish_reason: 'stop', message: { content: 'The answer is 4. key=sk-secret123' } }],
};

async function runTask(): Promise<string> {
  return traceAgent('planner', async (span) => {
    const plan = await traceLlmCall(
      {
        provider: 'openai',
        model: 'gpt-4o',
        input: [{ role: 'user', content: 'what is 2+2? my key is sk-secret123' }],
      },
      async () => {
        await sleep(5);
        return openAiResult;
      },
    );
    await traceTool(
      'calculator',
      async () => {
        await sleep(2);
        return { value: 4 };
      },
      { callId: 'call_1', arguments: { expr: '2+2' } },
    );
    await traceTool(
      'search',
      async () => {
        throw new Error('kb down');
      },
      { callId: 'call_2' },
    ).catch(() => undefined);
    expect(plan).toBe(openAiResult);
    return span.spanContext().traceId;
  });
}

describe('GenAI spans', () => {
  let tracing: Tracing;
  afterEach(() => tracing.close());

  it('follows the GenAI conventions: names, kinds, attributes, usage from the result, error.type on failure', async () => {
    tracing = startMemory();
    const traceId = await runTask();
    const spans = tracing.store!.getTrace(traceId)!.spans;
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual([
      'chat gpt-4o',
      'execute_tool calculator',
      'execute_tool search',
      'invoke_agent planner',
    ]);

    const agent = byName['invoke_agent planner'];
    expect(agent.attributes).toMatchObject({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'planner' });
    expect(agent.parentSpanId).toBeUndefined();

    const llm = byName['chat gpt-4o'];
    expect(llm.kind).toBe('CLIENT');
    expect(llm.parentSpanId).toBe(agent.spanId);
    expect(llm.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.response.id': 'chatcmpl-1',
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 30,
      'gen_ai.response.finish_reasons': ['stop'],
    });

    const tool = byName['execute_tool calculator'];
    expect(tool.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'calculator',
      'gen_ai.tool.call.id': 'call_1',
    });
    expect(byName['execute_tool search'].status.code).toBe('ERROR');
    expect(byName['execute_tool search'].attributes['error.type']).toBe('Error');
  });

  it('does not record content by default', async () => {
    tracing = startMemory();
    const traceId = await runTask();
    const text = JSON.stringify(tracing.store!.getTrace(traceId));
    expect(text).not.toContain('2+2');
    expect(text).not.toContain('answer is 4');
    expect(text).not.toContain('sk-secret123');
    for (const s of tracing.store!.getTrace(traceId)!.spans) {
      expect(Object.keys(s.attributes).filter((k) => /messages|arguments|result/.test(k))).toEqual([]);
    }
  });

  it('records content with captureContent: as schema messages, redacted, then cut inside the JSON', async () => {
    tracing = startMemory({
      captureContent: true,
      contentMaxLength: 85,
      redact: (t) => t.replace(/sk-[a-z0-9]+/g, '[REDACTED]'),
    });
    const traceId = await runTask();
    const spans = tracing.store!.getTrace(traceId)!.spans;
    const llm = spans.find((s) => s.name === 'chat gpt-4o')!;
    const inputText = String(llm.attributes['gen_ai.input.messages']);
    expect(inputText.length).toBeLessThanOrEqual(85);
    const input = JSON.parse(inputText);
    expect(input).toEqual([{ role: 'user', parts: [{ type: 'text', content: expect.any(String) }] }]);
    expect(input[0].parts[0].content).toMatch(/^what is .*…\[truncated \d+ chars\]$/);
    expect(inputText).not.toContain('sk-secret');
    const output = JSON.parse(String(llm.attributes['gen_ai.output.messages']));
    expect(output[0]).toMatchObject({ role: 'assistant', finish_reason: 'stop', parts: [{ type: 'text' }] });
    // Too long for 85 chars with its structure: the structure stays, the text is cut.
    expect(output[0].parts[0].content).toMatch(/^…\[truncated 31 chars\]$/);
    expect(JSON.stringify(output)).not.toContain('sk-secret');
    const tool = spans.find((s) => s.name === 'execute_tool calculator')!;
    expect(tool.attributes['gen_ai.tool.call.arguments']).toBe('{"expr":"2+2"}');
    expect(tool.attributes['gen_ai.tool.call.result']).toBe('{"value":4}');
  });

  it('reads Anthropic-shaped results and custom describe()', async () => {
    tracing = startMemory();
    const id = await trace('root', async (s) => {
      await traceLlmCall({ provider: 'anthropic', model: 'claude-x' }, async () => ({
        model: 'claude-x-1',
        stop_reason: 'end_turn',
        usage: { input_tokens: 9, output_tokens: 3 },
      }));
      traceLlmCall(
        {
          provider: 'sim',
          model: 'm',
          operation: 'text_completion',
          describe: (r: { tin: number }) => ({ inputTokens: r.tin, finishReasons: ['length'] }),
        },
        () => ({ tin: 77 }),
      );
      return s.spanContext().traceId;
    });
    const spans = tracing.store!.getTrace(id)!.spans;
    expect(spans.find((s) => s.name === 'chat claude-x')!.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 9,
      'gen_ai.usage.output_tokens': 3,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.response.model': 'claude-x-1',
    });
    expect(spans.find((s) => s.name === 'text_completion m')!.attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 77,
      'gen_ai.operation.name': 'text_completion',
      'gen_ai.response.finish_reasons': ['length'],
    });
  });

  it('rejects missing names with a typed error', () => {
    tracing = startMemory();
    expect(() => traceAgent('', () => 1)).toThrow(TracingInputError);
    expect(() => traceLlmCall({ provider: 'p', model: '' }, () => 1)).toThrow(/traceLlmCall model/);
    expect(() => traceTool(undefined as unknown as string, () => 1)).toThrow(TracingInputError);
  });
});

describe('trace store', () => {
  let tracing: Tracing;
  afterEach(() => tracing.close());

  it('renders the tree of a trace with durations and status', async () => {
    tracing = startMemory();
    const traceId = await runTask();
    const tree = tracing.store!.renderTree(traceId)!;
    const lines = tree.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^trace ${traceId}  [\\d.]+ m?s  4 spans  ERROR$`));
    expect(lines[1]).toMatch(/^└─ invoke_agent planner {2}[\d.]+ m?s$/);
    expect(lines[2]).toMatch(/^ {3}├─ chat gpt-4o {2}[\d.]+ ms$/);
    expect(lines[3]).toMatch(/^ {3}├─ execute_tool calculator {2}[\d.]+ ms$/);
    expect(lines[4]).toMatch(/^ {3}└─ execute_tool search {2}[\d.]+ ms {2}ERROR: kb down$/);
  });

  it('lists recent traces newest first with filters, finds the slowest, and exports JSON', async () => {
    tracing = startMemory();
    const fast = trace('fast', (s) => s.spanContext().traceId);
    await sleep(2); // span start times have millisecond resolution
    const slow = await trace('slow', async (s) => {
      await sleep(30);
      return s.spanContext().traceId;
    });
    let failed = '';
    try {
      trace('failed', (s) => {
        failed = s.spanContext().traceId;
        throw new Error('x');
      });
    } catch {
      /* expected */
    }
    const store = tracing.store!;
    expect(store.recentTraces().map((t) => t.rootName)).toEqual(['failed', 'slow', 'fast']);
    expect(store.recentTraces({ errorsOnly: true }).map((t) => t.traceId)).toEqual([failed]);
    expect(store.recentTraces({ minDurationMs: 20 }).map((t) => t.traceId)).toEqual([slow]);
    expect(store.recentTraces({ limit: 1 })).toHaveLength(1);
    expect(store.slowestTrace()!.traceId).toBe(slow);
    const json = JSON.parse(JSON.stringify(store));
    expect(json.traces.map((t: { traceId: string }) => t.traceId)).toEqual([failed, slow, fast]);
    expect(json.traces[1].spans[0]).toMatchObject({
      name: 'slow',
      kind: 'INTERNAL',
      status: { code: 'UNSET' },
      serviceName: 'tracing-test',
    });
    expect(store.getTrace('0'.repeat(32))).toBeUndefined();
    expect(() => store.getTrace('not-a-trace-id')).toThrow(TracingInputError);
    expect(() => store.recentTraces({ limit: -1 })).toThrow(TracingInputError);
  });

  it('is bounded: evicts the oldest trace and caps spans per trace', () => {
    tracing = startMemory({ store: { maxTraces: 3, maxSpansPerTrace: 2 } });
    const ids = [1, 2, 3, 4].map((i) => trace(`t${i}`, (s) => s.spanContext().traceId));
    expect(tracing.store!.size).toBe(3);
    expect(tracing.store!.getTrace(ids[0])).toBeUndefined();
    const big = trace('big', (s) => {
      for (let i = 0; i < 4; i++) trace(`c${i}`, () => undefined, { kind: SpanKind.INTERNAL });
      return s.spanContext().traceId;
    });
    const t = tracing.store!.getTrace(big)!;
    expect(t.spans).toHaveLength(2);
    expect(t.droppedSpans).toBe(3);
    expect(tracing.store!.renderTree(big)).toContain('(3 more spans not kept)');
  });

  it('keeps exactly the newest traces over a long churn', () => {
    tracing = startMemory({ store: { maxTraces: 5 } });
    const ids: string[] = [];
    for (let i = 0; i < 3000; i++) ids.push(trace(`t${i}`, (s) => s.spanContext().traceId));
    expect(tracing.store!.size).toBe(5);
    expect(
      tracing
        .store!.recentTraces()
        .map((t) => t.traceId)
        .sort(),
    ).toEqual(ids.slice(-5).sort());
  });

  it('a read between two spans of a trace does not freeze it: later spans and errors show up in the next read', () => {
    tracing = startMemory();
    const seen = trace('root', (root) => {
      trace('first', () => undefined);
      const early = tracing!.store!.getTrace(root.spanContext().traceId)!;
      try {
        trace('second', () => {
          throw new Error('boom');
        });
      } catch {
        // recorded on the span
      }
      return { traceId: root.spanContext().traceId, early };
    });
    expect(seen.early.spans.map((s) => s.name)).toEqual(['first']);
    expect(seen.early.error).toBe(false);
    const later = tracing.store!.getTrace(seen.traceId)!;
    expect(later.spans.map((s) => s.name).sort()).toEqual(['first', 'root', 'second']);
    expect(later.error).toBe(true);
    expect(tracing.store!.recentTraces({ errorsOnly: true }).map((t) => t.traceId)).toEqual([seen.traceId]);
  });
});
