// "By hand": what a team would glue together without Periscope for the same coverage — an
// OpenTelemetry BasicTracerProvider with a BatchSpanProcessor, prom-client metrics with the same
// series the demo exposes, and winston JSON lines that carry the trace ids.
import { context, trace, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import winston from 'winston';
import { discardingStream } from './setups';

// The OpenTelemetry GenAI semantic conventions' advised buckets, and prom-client's defaults.
const LLM_LATENCY = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TOKENS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
const LATENCY = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const GENAI_LABELS = ['gen_ai_provider_name', 'gen_ai_request_model', 'gen_ai_operation_name', 'gen_ai_response_model'];

/** Counts what it is handed and keeps nothing: the exporter a production pipeline would replace. */
class CountingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: 0 }) => void): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

export function createHandMetrics(registry: Registry) {
  const m = <T extends string>(kind: 'c' | 'h' | 'g', name: string, labelNames: T[], buckets?: number[]) => {
    const config = { name, help: name, labelNames, registers: [registry] };
    if (kind === 'c') return new Counter<T>(config);
    if (kind === 'g') return new Gauge<T>(config);
    return new Histogram<T>({ ...config, buckets });
  };
  return {
    tasks: m('c', 'periscope_agent_tasks_total', ['status']) as Counter<'status'>,
    taskDuration: m('h', 'periscope_agent_task_duration_seconds', ['status'], LLM_LATENCY) as Histogram<'status'>,
    inFlight: m('g', 'periscope_agent_tasks_in_flight', []) as Gauge,
    iterations: m('h', 'periscope_agent_iterations', [], [1, 2, 3, 4, 5, 8]) as Histogram<string>,
    toolCalls: m('c', 'periscope_agent_tool_calls_total', ['tool', 'status']) as Counter<'tool' | 'status'>,
    toolDuration: m('h', 'periscope_agent_tool_duration_seconds', ['tool'], LATENCY) as Histogram<'tool'>,
    cost: m('c', 'periscope_agent_llm_cost_usd_total', ['model']) as Counter<'model'>,
    llmDuration: m(
      'h',
      'gen_ai_client_operation_duration_seconds',
      [...GENAI_LABELS, 'error_type'],
      LLM_LATENCY,
    ) as Histogram<string>,
    tokens: m('h', 'gen_ai_client_token_usage', [...GENAI_LABELS, 'gen_ai_token_type'], TOKENS) as Histogram<string>,
    cacheRequests: m('c', 'periscope_cache_requests_total', ['cache', 'result']) as Counter<'cache' | 'result'>,
    cacheDuration: m('h', 'periscope_cache_operation_duration_seconds', ['cache'], LATENCY) as Histogram<'cache'>,
    dbQueries: m('c', 'periscope_db_pool_queries_total', ['status']) as Counter<'status'>,
    dbDuration: m('h', 'periscope_db_pool_query_duration_seconds', [], LATENCY) as Histogram<string>,
  };
}
export type HandMetrics = ReturnType<typeof createHandMetrics>;

/** JSON lines with OpenTelemetry field names and the active span's ids, as a winston format. */
function createHandLogger(level: string): winston.Logger {
  const traceIds = winston.format((info) => {
    const span = trace.getSpan(context.active());
    if (span) {
      const { traceId, spanId, traceFlags } = span.spanContext();
      Object.assign(info, { trace_id: traceId, span_id: spanId, trace_flags: `0${traceFlags.toString(16)}` });
    }
    return info;
  });
  return winston.createLogger({
    level,
    defaultMeta: { 'service.name': 'periscope-demo-agent' },
    format: winston.format.combine(traceIds(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: discardingStream() })],
  });
}

export interface HandInstruments {
  tracer: Tracer;
  metrics: HandMetrics;
  registry: Registry;
  logger: winston.Logger;
  /** Spans handed to the exporter so far (after a flush: every sampled span). */
  exported(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Production by hand: 10 % of traces by trace id (head sampling is what the SDK offers; keeping
 * every error and slow trace needs a tail sampler it does not have), batched export, the Node
 * default metrics beside the app's series, `info` JSON logs.
 */
export function startHandInstruments(ratio = 0.1, level = 'info'): HandInstruments {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const exporter = new CountingExporter();
  const provider = new BasicTracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const logger = createHandLogger(level);
  return {
    tracer: provider.getTracer('periscope-demo-agent-by-hand'),
    metrics: createHandMetrics(registry),
    registry,
    logger,
    exported: () => provider.forceFlush().then(() => exporter.exported),
    async close() {
      await provider.shutdown();
      logger.close();
      registry.clear();
      context.disable();
    },
  };
}

/** Runs `fn` in a span of its own; records an exception and ERROR status when it throws. */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Record<string, string | number>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: 2, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}
