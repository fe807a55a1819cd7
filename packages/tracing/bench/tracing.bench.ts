// Span start + 5 attributes + end: our wrappers against the raw OpenTelemetry tracer on the same
// provider (spans go to no exporter), the GenAI helpers, the unsampled path and tail sampling,
// interleaved in one process. Run: npx nx bench tracing
import { SpanKind, type Span } from '@opentelemetry/api';
import { compare, machineLine, type BenchResult } from '@periscope-tools/bench';
import { createRequire } from 'node:module';

// The shipped build, not the sources under tsx: what users run is what is measured.
const { currentSpan, startTracing, trace, traceAgent, traceLlmCall, traceTool, Traced } = createRequire(__filename)(
  '../dist/index.js',
) as typeof import('../src');
import { resolveConfig } from '../src/config';
import { buildProvider } from '../src/tracing';

const tracing = startTracing({
  serviceName: 'bench',
  exporter: 'none',
  store: false,
  dropRules: [{ name: 'unsampled' }],
  env: {},
});
const raw = tracing.tracer;

// A second provider, not registered, identical but with tail sampling on (10% of the fast, error-free traces kept).
const tailCfg = resolveConfig({ exporter: 'none', store: false, tailSampling: { graceMs: 50, ratio: 0.1 }, env: {} });
const tail = buildProvider(tailCfg, {});
const tailTracer = tail.provider.getTracer('@periscope/tracing');

function fiveAttributes(span: Span): number {
  span.setAttribute('agent.name', 'planner');
  span.setAttribute('agent.step', 3);
  span.setAttribute('task.id', 'task-42');
  span.setAttribute('cache.hit', false);
  span.setAttribute('tokens', 128);
  return 1;
}

class Worker {
  @Traced('work')
  run(): number {
    return fiveAttributes(currentSpan() as Span);
  }
}
const worker = new Worker();

const llmResult = {
  model: 'gpt-4o-2024-08-06',
  usage: { prompt_tokens: 120, completion_tokens: 30 },
  choices: [{ finish_reason: 'stop' }],
};
// Read from variables, as a real call site would.
let op = 'chat';
let provider = 'openai';
let model = 'gpt-4o';
if (process.env.BENCH_MODEL) [op, provider, model] = ['chat', 'other', process.env.BENCH_MODEL];

function ratioLine(label: string, results: BenchResult[], num: string, den: string, target: string): string {
  const a = results.find((r) => r.name === num)!;
  const b = results.find((r) => r.name === den)!;
  return `- ${label}: ${(a.medianNsPerOp / b.medianNsPerOp).toFixed(2)}× the cost (${(a.medianNsPerOp / 1000).toFixed(2)} µs vs ${(b.medianNsPerOp / 1000).toFixed(2)} µs; target ${target})`;
}

async function main(): Promise<void> {
  console.log(`## @periscope/tracing benchmark\n\n${machineLine()}`);
  const opts = { rounds: 9, sliceMs: 250 };

  const RAW = 'raw OTel startActiveSpan + 5 attrs + end';
  const TRACE = 'trace() + 5 attrs';
  const TAIL = 'raw OTel, tail sampling on';
  const UNS = 'trace(), unsampled (drop rule)';
  const sync = await compare(
    'Sync span: start + 5 attributes + end (same provider, no exporter)',
    [
      {
        name: RAW,
        fn: () =>
          raw.startActiveSpan('op', (s) => {
            fiveAttributes(s);
            s.end();
            return 1;
          }),
      },
      {
        name: 'raw OTel startSpan (no context) + 5 attrs + end',
        fn: () => {
          const s = raw.startSpan('op');
          fiveAttributes(s);
          s.end();
        },
      },
      { name: TRACE, fn: () => trace('op', fiveAttributes) },
      {
        name: 'trace() with 5 attributes option',
        fn: () =>
          trace('op', () => 1, {
            attributes: {
              'agent.name': 'planner',
              'agent.step': 3,
              'task.id': 'task-42',
              'cache.hit': false,
              tokens: 128,
            },
          }),
      },
      { name: '@Traced() method (5 attrs via currentSpan())', fn: () => worker.run() },
      {
        name: TAIL,
        fn: () =>
          tailTracer.startActiveSpan('op', (s) => {
            fiveAttributes(s);
            s.end();
            return 1;
          }),
      },
      {
        name: 'raw OTel, unsampled (drop rule)',
        fn: () =>
          raw.startActiveSpan('unsampled', (s) => {
            fiveAttributes(s);
            s.end();
            return 1;
          }),
      },
      { name: UNS, fn: () => trace('unsampled', fiveAttributes) },
    ],
    opts,
  );

  // Tail sampling with a child per trace: the buffered path (the table above has childless roots, decided at once).
  const RAW_TREE = 'raw OTel root + 1 child, 5 attrs each';
  const TAIL_TREE = 'same, tail sampling on';
  const tree = (t: typeof raw) =>
    t.startActiveSpan('root', (r) => {
      fiveAttributes(r);
      t.startActiveSpan('child', (c) => {
        fiveAttributes(c);
        c.end();
      });
      r.end();
    });
  const trees = await compare(
    'Trace of 2 spans (per op), tail sampling off and on',
    [
      { name: RAW_TREE, fn: () => tree(raw), opsPerCall: 2 },
      { name: TAIL_TREE, fn: () => tree(tailTracer), opsPerCall: 2 },
    ],
    opts,
  );

  const RAW_ASYNC = 'raw OTel startActiveSpan, async fn, end on settle';
  const TRACE_ASYNC = 'trace(), async fn';
  const asyncResults = await compare(
    'Async span (100 in flight per call)',
    [
      {
        name: RAW_ASYNC,
        opsPerCall: 100,
        fn: () =>
          Promise.all(
            Array.from({ length: 100 }, () =>
              raw.startActiveSpan('op', async (s) => {
                fiveAttributes(s);
                await undefined;
                s.end();
              }),
            ),
          ),
      },
      {
        name: TRACE_ASYNC,
        opsPerCall: 100,
        fn: () =>
          Promise.all(
            Array.from({ length: 100 }, () =>
              trace('op', async (s) => {
                fiveAttributes(s);
                await undefined;
              }),
            ),
          ),
      },
    ],
    opts,
  );

  const RAW_LLM = 'raw OTel equivalent of an LLM span (3 attrs + 4 from result)';
  const genai = await compare(
    'GenAI helpers',
    [
      {
        // What one would write by hand: name and attributes built per call, usage read from the result.
        name: RAW_LLM,
        fn: () =>
          raw.startActiveSpan(
            `${op} ${model}`,
            {
              kind: SpanKind.CLIENT,
              attributes: {
                'gen_ai.operation.name': op,
                'gen_ai.provider.name': provider,
                'gen_ai.request.model': model,
              },
            },
            (s) => {
              const r = llmResult;
              s.setAttributes({
                'gen_ai.response.model': r.model,
                'gen_ai.usage.input_tokens': r.usage.prompt_tokens,
                'gen_ai.usage.output_tokens': r.usage.completion_tokens,
                'gen_ai.response.finish_reasons': r.choices.map((c) => c.finish_reason),
              });
              s.end();
              return r;
            },
          ),
      },
      {
        name: 'traceLlmCall (reads usage from the result)',
        fn: () => traceLlmCall({ provider, model, operation: op }, () => llmResult),
      },
      { name: 'traceTool', fn: () => traceTool('calculator', () => 4, { callId: 'call_1' }) },
      { name: 'traceAgent', fn: () => traceAgent('planner', () => 1) },
    ],
    opts,
  );

  console.log('\n### Against the targets\n');
  console.log(ratioLine('trace() vs raw tracer', sync, TRACE, RAW, '≤ 1.15×'));
  console.log(ratioLine('trace() async vs raw async', asyncResults, TRACE_ASYNC, RAW_ASYNC, '≤ 1.15×'));
  console.log(
    ratioLine(
      'traceLlmCall vs its raw equivalent',
      genai,
      'traceLlmCall (reads usage from the result)',
      RAW_LLM,
      '≤ 1.15×',
    ),
  );
  console.log(ratioLine('tail sampling on vs off, childless roots', sync, TAIL, RAW, '≤ 1.5×'));
  console.log(ratioLine('tail sampling on vs off, root + child', trees, TAIL_TREE, RAW_TREE, '≤ 1.5×'));
  console.log(ratioLine('unsampled vs sampled trace()', sync, UNS, TRACE, '≤ 0.5×'));
  console.log(
    `- tail buffer after the run: ${tail.pipeline.tail?.bufferedTraces ?? 0} traces pending (bounded at ${tailCfg.tailSampling?.maxTraces})`,
  );

  await tail.provider.shutdown();
  await tracing.close();
}

void main();
