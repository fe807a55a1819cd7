// Conformance of what @periscope/tracing and @periscope/metrics emit for GenAI work, checked
// against the vendored OpenTelemetry semantic-convention models (vendor/, Apache-2.0): spans of
// traceAgent / traceLlmCall / traceTool from the in-memory store, metrics of recordLlmCall from a
// registry, captured content against the GenAI message JSON schemas.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createMetrics } from '@periscope/metrics';
import { startTracing, traceAgent, traceLlmCall, traceTool, type SpanRecord, type Tracing } from '@periscope/tracing';
import { checkAttributeNames, checkMetric, checkSpan, OWN_NAMESPACE } from '../src/check';
import { JsonSchemaValidator } from '../src/json-schema';
import { prometheusName, SemconvModel, VENDOR_DIR } from '../src/model';

const model = new SemconvModel();
const schema = (name: string) =>
  new JsonSchemaValidator(
    JSON.parse(readFileSync(path.join(VENDOR_DIR, 'genai-7b0c0fe1/docs/gen-ai', name), 'utf8')) as Record<
      string,
      unknown
    >,
  );
const SCHEMAS: Record<string, JsonSchemaValidator> = {
  'gen_ai.input.messages': schema('gen-ai-input-messages.json'),
  'gen_ai.output.messages': schema('gen-ai-output-messages.json'),
  'gen_ai.system_instructions': schema('gen-ai-system-instructions.json'),
};

const openAiResult = {
  id: 'chatcmpl-1',
  model: 'gpt-4o-2024-08-06',
  usage: {
    prompt_tokens: 120,
    completion_tokens: 30,
    prompt_tokens_details: { cached_tokens: 100 },
    completion_tokens_details: { reasoning_tokens: 10 },
  },
  choices: [
    {
      finish_reason: 'tool_calls',
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'calculator', arguments: '{"expr":"2+2"}' } }],
      },
    },
    { finish_reason: 'stop', message: { role: 'assistant', content: 'It is 4.' } },
  ],
  timeToFirstChunkSeconds: 0.3,
};

/** One agent run touching every helper: a streaming OpenAI call, a failing Anthropic call, two tools. */
async function agentRun(): Promise<string> {
  return traceAgent(
    'planner',
    async (span) => {
      await traceLlmCall(
        {
          provider: 'openai',
          model: 'gpt-4o',
          stream: true,
          serverAddress: 'api.openai.com',
          serverPort: 443,
          conversationId: 'conv-1',
          seed: 7,
          choiceCount: 2,
          outputType: 'text',
          temperature: 0.2,
          topP: 0.9,
          stopSequences: ['END'],
          systemInstructions: 'Answer briefly.',
          input: [
            { role: 'user', content: [{ type: 'text', text: 'what is 2+2?' }] },
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'c0', type: 'function', function: { name: 'calculator', arguments: '{}' } }],
            },
            { role: 'tool', tool_call_id: 'c0', content: 'error: empty' },
          ],
        },
        async () => openAiResult,
      );
      await traceLlmCall(
        {
          provider: 'anthropic',
          model: 'claude-sonnet',
          input: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu', content: 'x'.repeat(5000) }] }],
        },
        async () => {
          throw Object.assign(new Error('overloaded'), {
            error: { type: 'error', error: { type: 'overloaded_error' } },
          });
        },
      ).catch(() => undefined);
      await traceTool('calculator', async () => ({ value: 4 }), {
        callId: 'c1',
        type: 'function',
        description: 'evaluates arithmetic',
        arguments: { expr: '2+2' },
      });
      await traceTool('search', async () => {
        throw new Error('kb down');
      }).catch(() => undefined);
      return span.spanContext().traceId;
    },
    {
      provider: 'openai',
      model: 'gpt-4o',
      id: 'agent-1',
      description: 'plans and answers',
      version: '1.0.0',
      conversationId: 'conv-1',
      attributes: { 'periscope.task.id': 't-1' },
    },
  );
}

describe('GenAI spans conform to the semantic conventions', () => {
  let tracing: Tracing;
  let spans: Record<string, SpanRecord>;
  beforeAll(async () => {
    tracing = startTracing({
      serviceName: 'semconv-test',
      exporter: 'memory',
      env: {},
      captureContent: true,
      contentMaxLength: 1000,
    });
    const id = await agentRun();
    spans = Object.fromEntries(tracing.store!.getTrace(id)!.spans.map((s) => [s.name, s]));
  });
  afterAll(() => tracing.close());

  it('emits one span per agent, model call and tool', () => {
    expect(Object.keys(spans).sort()).toEqual([
      'chat claude-sonnet',
      'chat gpt-4o',
      'execute_tool calculator',
      'execute_tool search',
      'invoke_agent planner',
    ]);
  });

  it('invoke_agent: span.gen_ai.invoke_agent.internal', () => {
    expect(
      checkSpan(model, 'span.gen_ai.invoke_agent.internal', spans['invoke_agent planner'], {
        'gen_ai.request.model': true,
        'error.type': false,
        'gen_ai.request.choice.count': false,
        'gen_ai.request.seed': false,
        'gen_ai.output.type': false,
        'gen_ai.conversation.id': true,
        'gen_ai.agent.id': true,
        'gen_ai.agent.name': true,
        'gen_ai.agent.description': true,
        'gen_ai.agent.version': true,
        'gen_ai.data_source.id': false,
      }),
    ).toEqual([]);
  });

  it('a streaming OpenAI chat: span.openai.inference.client', () => {
    expect(
      checkSpan(model, 'span.openai.inference.client', spans['chat gpt-4o'], {
        'gen_ai.request.model': true,
        'error.type': false,
        'server.port': true,
        'gen_ai.request.choice.count': true,
        'gen_ai.request.seed': true,
        'gen_ai.request.stream': true,
        'gen_ai.output.type': true,
        'gen_ai.conversation.id': true,
        'openai.request.service_tier': false,
        'openai.response.service_tier': false,
      }),
    ).toEqual([]);
  });

  it("a failed Anthropic chat: span.anthropic.inference.client with the provider's error type and no usage", () => {
    const span = spans['chat claude-sonnet'];
    expect(
      checkSpan(model, 'span.anthropic.inference.client', span, {
        'gen_ai.request.model': true,
        'error.type': true,
        'server.port': false,
        'gen_ai.request.choice.count': false,
        'gen_ai.request.seed': false,
        'gen_ai.request.stream': false,
        'gen_ai.output.type': false,
        'gen_ai.conversation.id': false,
      }),
    ).toEqual([]);
    expect(span.attributes['error.type']).toBe('overloaded_error');
    expect(Object.keys(span.attributes).filter((k) => k.startsWith('gen_ai.usage.'))).toEqual([]);
  });

  it('execute_tool: span.gen_ai.execute_tool.internal, ok and failed', () => {
    expect(
      checkSpan(model, 'span.gen_ai.execute_tool.internal', spans['execute_tool calculator'], { 'error.type': false }),
    ).toEqual([]);
    expect(
      checkSpan(model, 'span.gen_ai.execute_tool.internal', spans['execute_tool search'], { 'error.type': true }),
    ).toEqual([]);
  });

  it('captured content validates against the message JSON schemas (also when cut to fit)', () => {
    let checked = 0;
    for (const span of Object.values(spans))
      for (const [key, validator] of Object.entries(SCHEMAS)) {
        const text = span.attributes[key];
        if (text === undefined) continue;
        checked++;
        expect({ span: span.name, key, errors: validator.validate(JSON.parse(String(text))) }).toEqual({
          span: span.name,
          key,
          errors: [],
        });
      }
    // chat gpt-4o: system, input, output; chat claude-sonnet: input (cut from 5,000 chars).
    expect(checked).toBe(4);
    expect(String(spans['chat claude-sonnet'].attributes['gen_ai.input.messages']).length).toBeLessThanOrEqual(1000);
  });

  it('the checks can fail: invented, deprecated and missing attributes, the old message shape', () => {
    const bad = {
      name: 'chat x',
      kind: 'INTERNAL',
      status: { code: 'UNSET' },
      attributes: {
        'gen_ai.system': 'openai',
        'gen_ai.client.errors': 1,
        'gen_ai.operation.name': 'chat',
        'gen_ai.usage.input_tokens': '12',
      },
    };
    expect(checkSpan(model, 'span.gen_ai.inference.client', bad, {})).toEqual(
      expect.arrayContaining([
        expect.stringContaining('kind INTERNAL'),
        expect.stringContaining("'gen_ai.system' is deprecated"),
        expect.stringContaining("'gen_ai.client.errors' is not defined"),
        expect.stringContaining("'gen_ai.usage.input_tokens' must be int"),
        expect.stringContaining("required 'gen_ai.provider.name' is missing"),
        expect.stringContaining("no decision for conditionally required 'error.type'"),
      ]),
    );
    expect(checkAttributeNames(model, 'x', { [`${OWN_NAMESPACE}anything`]: 1 })).toEqual([]);
    expect(SCHEMAS['gen_ai.input.messages'].validate([{ role: 'user', content: 'hi' }])).toEqual([
      "$[0]: missing required 'parts'",
    ]);
    expect(
      SCHEMAS['gen_ai.output.messages'].validate([{ role: 'assistant', parts: [{ type: 'text', content: 'x' }] }]),
    ).toEqual(["$[0]: missing required 'finish_reason'"]);
    expect(SCHEMAS['gen_ai.input.messages'].validate([{ role: 'user', parts: 'hi' }])).toEqual([
      '$[0].parts: must be of type array, got string',
    ]);
    expect(SCHEMAS['gen_ai.input.messages'].validate([{ role: 'user', parts: [{ content: 'x' }] }])).toEqual([
      '$[0].parts[0]: matches none of anyOf',
    ]);
  });
});

describe('GenAI metrics conform to the semantic conventions', () => {
  const FAILING_MODEL = 'failing-model';
  const metrics = createMetrics();
  metrics.recordLlmCall({
    provider: 'openai',
    model: 'gpt-4o',
    operation: 'chat',
    responseModel: 'gpt-4o-2024-08-06',
    serverAddress: 'api.openai.com',
    serverPort: 443,
    inputTokens: 120,
    outputTokens: 30,
    durationSeconds: 1.5,
    timeToFirstChunkSeconds: 0.3,
    outputChunkSeconds: [0.01, 0.02],
  });
  metrics.recordLlmCall({
    provider: 'anthropic',
    model: FAILING_MODEL,
    operation: 'chat',
    durationSeconds: 0.2,
    errorType: 'overloaded_error',
  });
  const families = metrics.toJSON().filter((f) => f.name.startsWith('gen_ai_'));

  it('every gen_ai_* family is a metric of the conventions, with its instrument, unit, attributes and requirements', () => {
    const names = families.map((f) => f.name).sort();
    expect(names).toEqual([
      'gen_ai_client_operation_duration_seconds',
      'gen_ai_client_operation_time_per_output_chunk_seconds',
      'gen_ai_client_operation_time_to_first_chunk_seconds',
      'gen_ai_client_token_usage',
    ]);
    const metricGroups = [...model.groups.values()].filter((g) => g.type === 'metric');
    for (const family of families) {
      const group = metricGroups.find((g) => prometheusName(g.metric_name!, g.unit) === family.name);
      expect({ family: family.name, defined: group !== undefined }).toEqual({ family: family.name, defined: true });
      const problems = checkMetric(model, group!.metric_name!, family, (labels) => ({
        'gen_ai.request.model': true,
        'server.port': labels.server_address !== '',
        'error.type': labels.gen_ai_request_model === FAILING_MODEL,
      }));
      expect({ family: family.name, problems }).toEqual({ family: family.name, problems: [] });
    }
  });

  it('a failed call reports no token usage', () => {
    const tokens = families.find((f) => f.name === 'gen_ai_client_token_usage')!;
    expect(tokens.series.map((s) => s.labels.gen_ai_request_model)).not.toContain(FAILING_MODEL);
  });

  it('OpenMetrics carries the unit of every seconds metric', async () => {
    const { body } = await metrics.expose('application/openmetrics-text');
    for (const f of families.filter((x) => x.name.endsWith('_seconds')))
      expect(body).toContain(`# UNIT ${f.name} seconds\n`);
    expect(body).not.toContain('# UNIT gen_ai_client_token_usage');
  });

  it('the metric check can fail: an invented family and a wrong instrument', () => {
    expect(
      checkMetric(
        model,
        'gen_ai.client.errors',
        { name: 'gen_ai_client_errors_total', type: 'counter', series: [] },
        () => ({}),
      ),
    ).toEqual(["metric 'gen_ai.client.errors' is not defined by the conventions"]);
    expect(
      checkMetric(
        model,
        'gen_ai.client.operation.duration',
        {
          name: 'gen_ai_client_operation_duration',
          type: 'summary',
          series: [{ labels: { gen_ai_operation_name: 'chat', foo: 'x' } }],
        },
        () => ({
          'gen_ai.request.model': false,
          'server.port': false,
          'error.type': false,
        }),
      ),
    ).toEqual([
      expect.stringContaining(
        'the Prometheus name of gen_ai.client.operation.duration (s) is gen_ai_client_operation_duration_seconds',
      ),
      expect.stringContaining('type summary'),
      expect.stringContaining("label 'foo'"),
      expect.stringContaining("required 'gen_ai.provider.name' is missing"),
    ]);
  });
});
