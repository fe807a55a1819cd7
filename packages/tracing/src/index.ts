// Public surface of @periscope/tracing.
export { startTracing, getTracing, type Tracing } from './tracing';
export type { ResolvedConfig, ResolvedTailSampling } from './config';
export {
  PROBE_PATHS,
  DEFAULT_DROP_RULES,
  EXPORTERS,
  SAMPLERS,
  PROPAGATORS,
  INSTRUMENTATIONS,
  type InstrumentationName,
  type TracingOptions,
  type TailSamplingOptions,
  type StoreOptions,
  type DropRule,
  type AttributeMatcher,
  type ExporterName,
  type SamplerName,
  type PropagatorName,
} from './config';
export { TracingError, TracingConfigError, TracingStateError, TracingInputError, TracingExportError } from './errors';
export type { TracingErrorCode } from './errors';
export type { MetricsLike, MetricLabels, DropReason } from './instrumentation';
export {
  trace,
  Traced,
  currentSpan,
  setAttributes,
  recordError,
  SpanKind,
  SpanStatusCode,
  type TraceOptions,
} from './api';
export {
  traceAgent,
  traceLlmCall,
  traceTool,
  describeLlmResult,
  llmErrorType,
  type GenAiRequestOptions,
  type LlmCallOptions,
  type LlmResponseInfo,
  type AgentOptions,
  type ToolOptions,
} from './genai';
export {
  inject,
  extract,
  wrapHttpHandler,
  tracedFetch,
  traceHeaders,
  type HeaderCarrier,
  type HttpHandlerOptions,
  type TracedFetchOptions,
  type NodeHttpHandler,
} from './propagation';
export type { FetchLike } from './http-client';
export {
  httpServerSpanStart,
  httpServerSpanEnd,
  httpClientSpanStart,
  httpClientSpanResponse,
  httpSpanName,
  ABORTED_ERROR_TYPE,
  type HttpServerSpanOptions,
} from './http';
export { TraceStore, renderSpanTree, type TraceSummary, type StoredTrace, type RecentTracesQuery } from './store';
export type { SpanRecord, SpanEventRecord, SpanStatusName } from './record';
export { FileSpanExporter } from './exporters';
export { TokenBucket } from './sampling';
export { TraceContextPropagator, W3CTraceState, parseTraceparent, parseTracestate, RANDOM_TRACE_ID_FLAG } from './w3c';
export type { TraceparentFields } from './w3c';
