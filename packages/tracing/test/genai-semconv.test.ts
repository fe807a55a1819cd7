// GenAI spans against the letter of the conventions (issue 23 items 1, 3, 4, 5, 6, 7): message
// schemas, system instructions, truncation that keeps JSON valid, invoke_agent's provider and
// model, Anthropic cache tokens, no usage on failure, the provider's error type, request params.
import fc from 'fast-check';
import { trace, traceAgent, traceLlmCall, traceTool, llmErrorType, type Tracing, type SpanRecord } from '../src';
import { serializeWithin, toInputMessages, toOutputMessages } from '../src/genai-messages';
import { startMemory } from './helpers';

function spansOf(tracing: Tracing, traceId: string): Record<string, SpanRecord> {
  return Object.fromEntries(tracing.store!.getTrace(traceId)!.spans.map((s) => [s.name, s]));
}

function inRoot<T>(fn: () => Promise<T> | T): Promise<string> {
  return trace('root', async (s) => {
    await fn();
    return s.spanContext().traceId;
  });
}

describe('GenAI messages in the schema shapes', () => {
  it('converts OpenAI chat messages: text, content parts, tool calls with parsed arguments, tool results', () => {
    expect(
      toInputMessages([
        { role: 'system', content: 'be brief' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'look' },
            { type: 'image_url', image_url: { url: 'https://x/y.png' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'calc', arguments: '{"expr":"2+2"}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: '4' },
      ]),
    ).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'be brief' }] },
      {
        role: 'user',
        parts: [
          { type: 'text', content: 'look' },
          { type: 'uri', modality: 'image', mime_type: null, uri: 'https://x/y.png' },
        ],
      },
      { role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'calc', arguments: { expr: '2+2' } }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: '4' }] },
    ]);
  });

  it('converts Anthropic messages: text, tool_use, tool_result, thinking, base64 images', () => {
    expect(
      toInputMessages([
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm' },
            { type: 'tool_use', id: 'tu1', name: 'search', input: { q: 'x' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'tu1', content: [{ type: 'text', text: 'found' }] },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          ],
        },
      ]),
    ).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'hi' }] },
      {
        role: 'assistant',
        parts: [
          { type: 'reasoning', content: 'hmm' },
          { type: 'tool_call', id: 'tu1', name: 'search', arguments: { q: 'x' } },
        ],
      },
      {
        role: 'user',
        parts: [
          { type: 'tool_call_response', id: 'tu1', response: 'found' },
          { type: 'blob', modality: 'image', mime_type: 'image/png', content: 'AAAA' },
        ],
      },
    ]);
  });

  it('builds output messages with finish_reason from OpenAI choices, Anthropic messages, strings and tool calls', () => {
    expect(
      toOutputMessages({
        choices: [
          { finish_reason: 'stop', message: { role: 'assistant', content: 'a' } },
          {
            finish_reason: 'tool_calls',
            message: { role: 'assistant', tool_calls: [{ id: 't', function: { name: 'f', arguments: '{}' } }] },
          },
        ],
      }),
    ).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'a' }], finish_reason: 'stop' },
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 't', name: 'f', arguments: {} }],
        finish_reason: 'tool_call',
      },
    ]);
    expect(toOutputMessages({ content: [{ type: 'text', text: 'b' }], stop_reason: 'max_tokens' })).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'b' }], finish_reason: 'length' },
    ]);
    expect(toOutputMessages('plain', ['end_turn'])).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'plain' }], finish_reason: 'stop' },
    ]);
    expect(toOutputMessages([{ id: 'c', name: 'calc', arguments: { x: 1 } }], ['tool_calls'])).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'c', name: 'calc', arguments: { x: 1 } }],
        finish_reason: 'tool_call',
      },
    ]);
  });

  it('cuts inside strings: the result always parses, fits the limit when it can, and keeps the structure', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: fc.string({ maxLength: 300 }) }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 120, max: 900 }),
        (messages, max) => {
          const value = toInputMessages(messages);
          const text = serializeWithin(value, max);
          const parsed = JSON.parse(text) as Array<{ role: string; parts: Array<{ type: string }> }>;
          expect(text.length).toBeLessThanOrEqual(max);
          for (const m of parsed) {
            expect(['user', 'assistant']).toContain(m.role);
            expect(m.parts.every((p) => p.type === 'text')).toBe(true);
          }
          // The newest message is the one kept when older ones must go.
          expect(parsed[parsed.length - 1].role).toBe(value[value.length - 1].role);
        },
      ),
    );
  });
});

describe('GenAI spans', () => {
  let tracing: Tracing;
  afterEach(() => tracing.close());

  it('invoke_agent carries provider, model, version, conversation id and request parameters', async () => {
    tracing = startMemory();
    const id = await traceAgent('planner', (s) => s.spanContext().traceId, {
      provider: 'openai',
      model: 'gpt-4o',
      version: '1.2.0',
      id: 'agent-1',
      conversationId: 'conv-7',
      temperature: 0.2,
    });
    const agent = spansOf(tracing, id)['invoke_agent planner'];
    expect(agent.kind).toBe('INTERNAL');
    expect(agent.attributes).toEqual({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'planner',
      'gen_ai.agent.id': 'agent-1',
      'gen_ai.agent.version': '1.2.0',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.conversation.id': 'conv-7',
      'gen_ai.request.temperature': 0.2,
    });
    const remote = await traceAgent('assistant', (s) => s.spanContext().traceId, {
      provider: 'openai',
      remote: true,
      serverAddress: 'api.openai.com',
      serverPort: 443,
    });
    const r = spansOf(tracing, remote)['invoke_agent assistant'];
    expect(r.kind).toBe('CLIENT');
    expect(r.attributes).toMatchObject({ 'server.address': 'api.openai.com', 'server.port': 443 });
  });

  it('a streaming call records stream, time to first chunk, server, every request parameter and conversation id', async () => {
    tracing = startMemory();
    const id = await inRoot(() =>
      traceLlmCall(
        {
          provider: 'openai',
          model: 'gpt-4o',
          stream: true,
          serverAddress: 'api.openai.com',
          serverPort: 443,
          conversationId: 'conv-1',
          temperature: 0.5,
          maxTokens: 100,
          topP: 0.9,
          topK: 40,
          stopSequences: ['\n\n'],
          frequencyPenalty: 0.1,
          presencePenalty: 0.2,
          seed: 42,
          choiceCount: 2,
          outputType: 'text',
        },
        async () => ({
          model: 'gpt-4o-1',
          usage: { prompt_tokens: 3, completion_tokens: 4 },
          timeToFirstTokenSeconds: 0.25,
        }),
      ),
    );
    expect(spansOf(tracing, id)['chat gpt-4o'].attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.request.stream': true,
      'gen_ai.response.time_to_first_chunk': 0.25,
      'server.address': 'api.openai.com',
      'server.port': 443,
      'gen_ai.conversation.id': 'conv-1',
      'gen_ai.request.temperature': 0.5,
      'gen_ai.request.max_tokens': 100,
      'gen_ai.request.top_p': 0.9,
      'gen_ai.request.top_k': 40,
      'gen_ai.request.stop_sequences': ['\n\n'],
      'gen_ai.request.frequency_penalty': 0.1,
      'gen_ai.request.presence_penalty': 0.2,
      'gen_ai.request.seed': 42,
      'gen_ai.request.choice.count': 2,
      'gen_ai.output.type': 'text',
      'gen_ai.response.model': 'gpt-4o-1',
      'gen_ai.usage.input_tokens': 3,
      'gen_ai.usage.output_tokens': 4,
    });
  });

  it('a non-streaming call has no stream flag and no time to first chunk', async () => {
    tracing = startMemory();
    const id = await inRoot(() =>
      traceLlmCall({ provider: 'openai', model: 'm', choiceCount: 1 }, () => ({ timeToFirstChunkSeconds: 1 })),
    );
    const a = spansOf(tracing, id)['chat m'].attributes;
    expect(a['gen_ai.request.stream']).toBeUndefined();
    expect(a['gen_ai.response.time_to_first_chunk']).toBeUndefined();
    expect(a['gen_ai.request.choice.count']).toBeUndefined();
  });

  it('Anthropic input tokens include cache reads and writes; OpenAI cached and reasoning tokens are recorded', async () => {
    tracing = startMemory();
    const id = await inRoot(async () => {
      await traceLlmCall({ provider: 'anthropic', model: 'claude' }, async () => ({
        stop_reason: 'end_turn',
        usage: { input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 5 },
      }));
      await traceLlmCall({ provider: 'openai', model: 'o3' }, async () => ({
        usage: {
          prompt_tokens: 50,
          completion_tokens: 30,
          prompt_tokens_details: { cached_tokens: 40 },
          completion_tokens_details: { reasoning_tokens: 25 },
        },
      }));
    });
    const spans = spansOf(tracing, id);
    expect(spans['chat claude'].attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 130,
      'gen_ai.usage.cache_read.input_tokens': 100,
      'gen_ai.usage.cache_creation.input_tokens': 20,
      'gen_ai.usage.output_tokens': 5,
    });
    expect(spans['chat o3'].attributes).toMatchObject({
      'gen_ai.usage.input_tokens': 50,
      'gen_ai.usage.cache_read.input_tokens': 40,
      'gen_ai.usage.output_tokens': 30,
      'gen_ai.usage.reasoning.output_tokens': 25,
    });
  });

  it("a failed call records the provider's error type and no token usage", async () => {
    tracing = startMemory();
    class ProviderError extends Error {
      readonly code = 'ERR_DEMO_LLM';
      constructor(readonly type: string) {
        super('slow down');
      }
    }
    const anthropicError = Object.assign(new Error('overloaded'), {
      status: 529,
      error: { type: 'error', error: { type: 'overloaded_error' } },
    });
    const id = await inRoot(async () => {
      await traceLlmCall({ provider: 'p', model: 'a' }, async () => {
        throw new ProviderError('rate_limit');
      }).catch(() => undefined);
      await traceLlmCall({ provider: 'anthropic', model: 'b' }, async () => {
        throw anthropicError;
      }).catch(() => undefined);
      try {
        traceLlmCall({ provider: 'p', model: 'c', errorType: () => 'custom' }, () => {
          throw new TypeError('sync');
        });
      } catch {
        /* expected */
      }
    });
    const spans = spansOf(tracing, id);
    expect(spans['chat a'].attributes['error.type']).toBe('rate_limit');
    expect(spans['chat a'].status.code).toBe('ERROR');
    expect(spans['chat b'].attributes['error.type']).toBe('overloaded_error');
    expect(spans['chat c'].attributes['error.type']).toBe('custom');
    for (const s of Object.values(spans))
      expect(Object.keys(s.attributes).filter((k) => k.startsWith('gen_ai.usage'))).toEqual([]);
    expect(llmErrorType(new ProviderError('timeout'))).toBe('timeout');
    expect(llmErrorType(new RangeError('x'))).toBe('RangeError');
    expect(llmErrorType(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
  });

  it('records system instructions and tool type; content stays off by default', async () => {
    tracing = startMemory({ captureContent: true });
    const id = await inRoot(async () => {
      await traceLlmCall(
        {
          provider: 'anthropic',
          model: 'claude',
          systemInstructions: 'You are terse.',
          input: [{ role: 'user', content: 'hi' }],
        },
        async () => ({ content: [{ type: 'text', text: 'yo' }], stop_reason: 'end_turn' }),
      );
      traceTool('kb', () => 'rows', { type: 'datastore' });
    });
    const spans = spansOf(tracing, id);
    expect(JSON.parse(String(spans['chat claude'].attributes['gen_ai.system_instructions']))).toEqual([
      { type: 'text', content: 'You are terse.' },
    ]);
    expect(JSON.parse(String(spans['chat claude'].attributes['gen_ai.output.messages']))).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'yo' }], finish_reason: 'stop' },
    ]);
    expect(spans['execute_tool kb'].attributes['gen_ai.tool.type']).toBe('datastore');
    await tracing.close();
    tracing = startMemory();
    const off = await inRoot(() =>
      traceLlmCall({ provider: 'p', model: 'm', systemInstructions: 'secret rules', input: 'x' }, () => ({
        text: 'y',
      })),
    );
    expect(JSON.stringify(tracing.store!.getTrace(off))).not.toContain('secret rules');
  });

  it('a redactor that breaks JSON still yields valid JSON: strings are then redacted one by one', async () => {
    tracing = startMemory({ captureContent: true, redact: (t) => t.replace(/sk-[a-z0-9]+"?/g, '[REDACTED]') });
    const id = await inRoot(() =>
      traceLlmCall({ provider: 'p', model: 'm', input: [{ role: 'user', content: 'key sk-abc' }] }, () => ({})),
    );
    const text = String(spansOf(tracing, id)['chat m'].attributes['gen_ai.input.messages']);
    expect(JSON.parse(text)).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'key [REDACTED]' }] }]);
  });
});
