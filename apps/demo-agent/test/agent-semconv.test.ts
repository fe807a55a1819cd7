// The demo's agent spans and GenAI metrics carry what the GenAI conventions ask for: provider and
// model on invoke_agent, one conversation id per task on every span of it, streaming and the time
// to the first chunk on model calls, the response model and error type on the metrics, and
// gen_ai.tool.type on tool spans.
import { createMetrics } from '@periscope/metrics';
import { startTracing, type SpanRecord, type Tracing } from '@periscope/tracing';
import { Agent, AGENT_NAME } from '../src/agent';
import { LlmError, type CallOptions, type ChatRequest, type ChatResult, type LlmProvider } from '../src/llm/provider';
import { OpenAiProvider } from '../src/llm/openai';
import { SimulatedProvider } from '../src/llm/simulated';
import { createTools } from '../src/tools';

const tools = createTools({ knowledgeBase: { kind: 'none', search: async () => [] } });

/** The simulated provider, as if reached over the network; fails every attempt of prompts saying "fail". */
class Remote implements LlmProvider {
  readonly name = 'openai';
  readonly defaultModel = 'sim-gpt-4o-mini';
  readonly server = { address: 'llm.internal', port: 8443 };
  private readonly inner = new SimulatedProvider({ seed: 5, latencyScale: 0 });
  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResult> {
    return this.chatStream(request, () => undefined, options);
  }
  async chatStream(request: ChatRequest, onToken: (t: string) => void, options?: CallOptions): Promise<ChatResult> {
    if (request.messages.some((m) => m.content.includes('fail')))
      throw new LlmError('provider answered HTTP 400', 'invalid_request');
    return this.inner.chatStream(request, onToken, options);
  }
}

describe('GenAI attributes on the demo agent’s spans and metrics', () => {
  let tracing: Tracing;
  const metrics = createMetrics();
  let spans: SpanRecord[];
  let taskId: string;

  beforeAll(async () => {
    tracing = startTracing({ serviceName: 'demo-semconv', exporter: 'memory', env: {} });
    const agent = new Agent({ provider: new Remote(), tools, metrics, retry: { maxAttempts: 1 } });
    const result = await agent.run('What is 6 * 7?', { id: 'task-semconv-1' });
    expect(result.status).toBe('ok');
    taskId = result.id;
    await agent.run('please fail', { id: 'task-semconv-2' });
    await tracing.forceFlush();
    spans = tracing.store!.toJSON().traces.flatMap((t) => t.spans);
  });
  afterAll(() => tracing.close());

  const ofTask = (id: string) => {
    const root = spans.find((s) => s.name === `invoke_agent ${AGENT_NAME}` && s.attributes['gen_ai.agent.id'] === id)!;
    return spans.filter((s) => s.traceId === root.traceId);
  };

  it('invoke_agent carries provider, request model and the task’s conversation id', () => {
    const root = ofTask(taskId).find((s) => s.name.startsWith('invoke_agent'))!;
    expect(root.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'sim-gpt-4o-mini',
      'gen_ai.conversation.id': taskId,
    });
  });

  it('each model call: streaming, its conversation, server, the time to the first chunk', () => {
    const chats = ofTask(taskId).filter((s) => s.name.startsWith('chat '));
    expect(chats.length).toBeGreaterThanOrEqual(2); // plan, then answer
    for (const chat of chats) {
      expect(chat.attributes).toMatchObject({
        'gen_ai.request.stream': true,
        'gen_ai.conversation.id': taskId,
        'server.address': 'llm.internal',
        'server.port': 8443,
      });
      expect(chat.attributes['gen_ai.response.time_to_first_chunk']).toEqual(expect.any(Number));
      expect(chat.attributes['gen_ai.response.model']).toEqual(expect.any(String));
    }
  });

  it('tool spans are functions, with the tool’s description', () => {
    const tool = ofTask(taskId).find((s) => s.name === 'execute_tool calculator')!;
    expect(tool.attributes).toMatchObject({ 'gen_ai.tool.type': 'function', 'gen_ai.tool.name': 'calculator' });
    expect(tool.attributes['gen_ai.tool.description']).toEqual(expect.any(String));
  });

  it('a failed call: the same error.type on span and metric, and no token usage', () => {
    const failed = ofTask('task-semconv-2').find((s) => s.name.startsWith('chat '))!;
    expect(failed.attributes['error.type']).toBe('invalid_request');
    const duration = metrics.toJSON().find((f) => f.name === 'gen_ai_client_operation_duration_seconds')!;
    const errored = duration.series.filter((s) => s.labels.error_type);
    expect(errored.map((s) => s.labels.error_type)).toEqual(['invalid_request']);
    const ok = duration.series.find((s) => !s.labels.error_type)!;
    expect(ok.labels).toMatchObject({ server_address: 'llm.internal', server_port: '8443' });
    expect(ok.labels.gen_ai_response_model).toBeTruthy();
    const tokens = metrics.toJSON().find((f) => f.name === 'gen_ai_client_token_usage')!;
    expect(tokens.series.every((s) => !s.labels.error_type)).toBe(true);
    const ttfc = metrics.toJSON().find((f) => f.name === 'gen_ai_client_operation_time_to_first_chunk_seconds');
    expect(ttfc?.series.length).toBeGreaterThan(0);
  });

  it('the OpenAI provider names its endpoint', () => {
    expect(new OpenAiProvider({ baseUrl: 'https://api.openai.com/v1', model: 'm' }).server).toEqual({
      address: 'api.openai.com',
      port: 443,
    });
    expect(new OpenAiProvider({ baseUrl: 'http://[::1]:11434/v1', model: 'm' }).server).toEqual({
      address: '::1',
      port: 11434,
    });
  });
});
