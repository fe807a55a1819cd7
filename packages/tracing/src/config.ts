// Options of startTracing(), their defaults and the environment variables that fill them in.
// Explicit options win over the environment; every value is validated here, once, so a bad
// setting fails at start with one message naming the option and what it accepts.
import { ConfigReader, redactUrl } from '@periscope/core';
import { TracingConfigError } from './errors';
import type { MetricsLike } from './instrumentation';

export const EXPORTERS = ['otlp', 'zipkin', 'console', 'file', 'memory', 'none'] as const;
export type ExporterName = (typeof EXPORTERS)[number];

export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export const PROPAGATORS = ['tracecontext', 'baggage', 'b3', 'b3multi', 'none'] as const;
export type PropagatorName = (typeof PROPAGATORS)[number];

/** Auto-instrumentations by name; 'auto' = all five. Each is loaded from its contrib package, an optional peer. */
export const INSTRUMENTATIONS = ['http', 'undici', 'pg', 'ioredis', 'winston'] as const;
export type InstrumentationName = (typeof INSTRUMENTATIONS)[number];

export type AttributeMatcher = string | number | boolean | RegExp;

/** A head-sampling rule: a span matching it (name and every listed attribute) is not recorded. */
export interface DropRule {
  name?: string | RegExp;
  attributes?: Record<string, AttributeMatcher>;
}

/** Probe and scrape routes: never traced by default. */
export const PROBE_PATHS: readonly string[] = ['/livez', '/readyz', '/healthz', '/metrics'];

export const DEFAULT_DROP_RULES: readonly DropRule[] = PROBE_PATHS.flatMap((p): DropRule[] => [
  { attributes: { 'url.path': p } },
  { attributes: { 'http.route': p } },
]);

export interface TailSamplingOptions {
  /** Keep a trace whose local root took longer than this. Default 1000 (PERISCOPE_TRACING_SLOWER_THAN_MS). */
  slowerThanMs?: number;
  /** Share of the remaining (fast, error-free) traces kept. Default: the sampler ratio for *traceidratio samplers, else 0. */
  ratio?: number;
  /** Wait this long after the local root ends for children that end late. Default 1000. */
  graceMs?: number;
  /** Most traces buffered at once. Default 1000. */
  maxTraces?: number;
  /** Most spans buffered at once, over all traces. Default 20000. */
  maxSpans?: number;
  /** A trace whose root has not ended after this long is decided anyway. Default 60000. */
  traceTimeoutMs?: number;
}

export interface StoreOptions {
  /** Traces kept (oldest evicted first). Default 200 (PERISCOPE_TRACING_STORE_MAX_TRACES). */
  maxTraces?: number;
  /** Spans kept per trace; further spans are counted in `droppedSpans`. Default 1000. */
  maxSpansPerTrace?: number;
}

export interface TracingOptions {
  /** OTEL_SERVICE_NAME; default 'unknown_service:node'. */
  serviceName?: string;
  serviceVersion?: string;
  /** Merged over OTEL_RESOURCE_ATTRIBUTES (`k=v,k2=v2`). */
  resourceAttributes?: Record<string, string | number | boolean>;
  /** One exporter or several. OTEL_TRACES_EXPORTER (comma list); default 'memory' (only the in-process store). */
  exporter?: ExporterName | readonly ExporterName[];
  otlp?: {
    /** Base endpoint; `/v1/traces` is appended. OTEL_EXPORTER_OTLP_ENDPOINT; default http://localhost:4318.
     *  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is) wins over it. */
    endpoint?: string;
    /** Extra request headers (e.g. authorization), over OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_TRACES_HEADERS. */
    headers?: Record<string, string>;
    /** OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, else OTEL_EXPORTER_OTLP_TIMEOUT; default 10000. */
    timeoutMs?: number;
  };
  /** Full span URL. OTEL_EXPORTER_ZIPKIN_ENDPOINT; default http://localhost:9411/api/v2/spans. */
  zipkin?: { endpoint?: string };
  file?: {
    /** PERISCOPE_TRACING_FILE; default ./traces.jsonl */
    path?: string;
    /** Rotate when the file would grow past this. Default 10 MiB. */
    maxBytes?: number;
    /** Rotated files kept (path.1 … path.N). Default 3. */
    maxFiles?: number;
  };
  /** Batching of the external exporters. */
  batch?: { scheduledDelayMs?: number; maxQueueSize?: number; maxExportBatchSize?: number };
  /** OTEL_TRACES_SAMPLER; default parentbased_always_on. */
  sampler?: SamplerName;
  /** OTEL_TRACES_SAMPLER_ARG; ratio in [0, 1] for the *traceidratio samplers; default 1. */
  samplerRatio?: number;
  /** Token-bucket limit on sampled spans per second in this process. PERISCOPE_TRACING_MAX_SPANS_PER_SECOND; default unlimited. */
  maxSpansPerSecond?: number;
  /** Spans never recorded. Default: the probe and scrape routes (PROBE_PATHS). Pass [] to trace everything. */
  dropRules?: readonly DropRule[];
  /** Drop leaf spans shorter than this (never a local root, never a span with children). PERISCOPE_TRACING_MIN_DURATION_MS; default 0. */
  minDurationMs?: number;
  /** In-process tail sampling. PERISCOPE_TRACING_TAIL_SAMPLING=true; default off. */
  tailSampling?: boolean | TailSamplingOptions;
  /** Where span metrics and the package's own counters go (a @periscope/metrics Metrics fits). */
  metrics?: MetricsLike;
  /** RED metrics per span name and status; default true when `metrics` is given. */
  spanMetrics?: boolean;
  /** Record prompts, completions and tool arguments. OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT; default false. */
  captureContent?: boolean;
  /** Captured content is cut to this many characters. Default 2000. */
  contentMaxLength?: number;
  /** Applied to captured content and exception messages before they are recorded. */
  redact?: (text: string) => string;
  /** OTEL_PROPAGATORS; default ['tracecontext', 'baggage']. */
  propagators?: readonly PropagatorName[];
  /** The bounded store of recent traces; false disables it. */
  store?: StoreOptions | false;
  /** CPU time and heap delta on local root spans. PERISCOPE_TRACING_RESOURCE_USAGE=true; default false. */
  resourceUsage?: boolean;
  /** close() settles within this bound even when an exporter's endpoint is down or slow; spans
   *  still queued then are counted as dropped and reported in one stderr line.
   *  PERISCOPE_TRACING_CLOSE_TIMEOUT_MS (durations such as 2s accepted); default 3000. */
  closeTimeoutMs?: number;
  /** Auto-instrumentation from the OpenTelemetry contrib packages, by name: 'http' (http and https,
   *  client and server; probe and scrape routes ignored by the drop rules), 'undici' (fetch), 'pg',
   *  'ioredis', 'winston' (trace ids in log records), or 'auto' for all five. Each package is an
   *  optional peer: install the ones you enable. PERISCOPE_TRACING_INSTRUMENTATIONS (comma list); default none. */
  instrumentations?: InstrumentationName | 'auto' | readonly (InstrumentationName | 'auto')[];
  /** Read instead of process.env (tests). */
  env?: Record<string, string | undefined>;
}

export interface ResolvedTailSampling {
  slowerThanMs: number;
  ratio: number;
  graceMs: number;
  maxTraces: number;
  maxSpans: number;
  traceTimeoutMs: number;
}

export interface ResolvedConfig {
  serviceName: string;
  resourceAttributes: Record<string, string | number | boolean>;
  exporters: ExporterName[];
  otlp: { url: string; headers: Record<string, string>; timeoutMs: number };
  zipkinUrl: string;
  file: { path: string; maxBytes: number; maxFiles: number };
  batch: { scheduledDelayMs: number; maxQueueSize: number; maxExportBatchSize: number };
  sampler: SamplerName;
  samplerRatio: number;
  maxSpansPerSecond: number | undefined;
  dropRules: readonly DropRule[];
  minDurationMs: number;
  tailSampling: ResolvedTailSampling | undefined;
  spanMetrics: boolean;
  captureContent: boolean;
  contentMaxLength: number;
  propagators: PropagatorName[];
  store: Required<StoreOptions> | undefined;
  resourceUsage: boolean;
  closeTimeoutMs: number;
  instrumentations: InstrumentationName[];
}

/** URLs in the resolved config and in error messages: credentials and secret query values masked. */
export function safeUrl(raw: string): string {
  return redactUrl(raw, { form: 'masked' });
}

/** Every option startTracing() knows; anything else fails with the nearest known name. */
const KNOWN_OPTIONS: readonly (keyof TracingOptions)[] = [
  'serviceName',
  'serviceVersion',
  'resourceAttributes',
  'exporter',
  'otlp',
  'zipkin',
  'file',
  'batch',
  'sampler',
  'samplerRatio',
  'maxSpansPerSecond',
  'dropRules',
  'minDurationMs',
  'tailSampling',
  'metrics',
  'spanMetrics',
  'captureContent',
  'contentMaxLength',
  'closeTimeoutMs',
  'redact',
  'propagators',
  'store',
  'resourceUsage',
  'instrumentations',
  'env',
];

const HTTP = ['http:', 'https:'] as const;

/** OTEL_EXPORTER_OTLP_[SIGNAL_]HEADERS through core's reader: keys lower-cased, values never quoted in errors. */
const headersFrom = (read: ConfigReader, variable: string) =>
  read.keyValues('otlp.headers', { env: variable, secret: true, lowerCaseKeys: true });

function resolveEndpoints(options: TracingOptions, read: ConfigReader, exporters: readonly ExporterName[]) {
  const protocolVar = read.raw('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  if (exporters.includes('otlp'))
    read.oneOf('otlp.protocol', undefined, ['http/protobuf'], { env: protocolVar, default: 'http/protobuf' });
  const base = (url: string) => `${url.replace(/\/+$/, '')}/v1/traces`;
  const otlpUrl =
    options.otlp?.endpoint !== undefined
      ? base(read.url('otlp.endpoint', options.otlp.endpoint, { default: '', protocols: HTTP }))
      : read.raw('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined
        ? read.url('otlp.endpoint', undefined, {
            env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
            default: '',
            protocols: HTTP,
          })
        : base(
            read.url('otlp.endpoint', undefined, {
              env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
              default: 'http://localhost:4318',
              protocols: HTTP,
            }),
          );
  const zipkinUrl = read.url('zipkin.endpoint', options.zipkin?.endpoint, {
    env: 'OTEL_EXPORTER_ZIPKIN_ENDPOINT',
    default: 'http://localhost:9411/api/v2/spans',
    protocols: HTTP,
  });
  return { otlpUrl, zipkinUrl };
}

/** Headers and timeout as @periscope/metrics' OTLP push reads them: the signal's variable over the generic one, the option over both. */
function resolveOtlpHeadersAndTimeout(options: TracingOptions, read: ConfigReader) {
  const timeoutVar = read.raw('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT')
    ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT'
    : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  return {
    headers: {
      ...headersFrom(read, 'OTEL_EXPORTER_OTLP_HEADERS'),
      ...headersFrom(read, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
      ...options.otlp?.headers,
    },
    timeoutMs: read.duration('otlp.timeoutMs', options.otlp?.timeoutMs, { env: timeoutVar, default: 10000, min: 1 }),
  };
}

function resolveTail(options: TracingOptions, read: ConfigReader, sampler: SamplerName, samplerRatio: number) {
  const tailOn =
    options.tailSampling !== undefined
      ? options.tailSampling !== false
      : read.boolean('tailSampling', undefined, { env: 'PERISCOPE_TRACING_TAIL_SAMPLING', default: false });
  if (!tailOn) return undefined;
  const t: TailSamplingOptions = typeof options.tailSampling === 'object' ? options.tailSampling : {};
  return {
    slowerThanMs: read.duration('tailSampling.slowerThanMs', t.slowerThanMs, {
      env: 'PERISCOPE_TRACING_SLOWER_THAN_MS',
      default: 1000,
      min: 0,
    }),
    ratio: read.number('tailSampling.ratio', t.ratio, {
      default: sampler.endsWith('traceidratio') ? samplerRatio : 0,
      min: 0,
      max: 1,
    }),
    graceMs: read.duration('tailSampling.graceMs', t.graceMs, { default: 1000, min: 0 }),
    maxTraces: read.integer('tailSampling.maxTraces', t.maxTraces, { default: 1000, min: 1 }),
    maxSpans: read.integer('tailSampling.maxSpans', t.maxSpans, { default: 20000, min: 1 }),
    traceTimeoutMs: read.duration('tailSampling.traceTimeoutMs', t.traceTimeoutMs, { default: 60000, min: 1 }),
  };
}

function checkShapes(options: TracingOptions, read: ConfigReader): void {
  if (options.redact !== undefined && typeof options.redact !== 'function')
    read.fail('redact', 'a function (text: string) => string', options.redact);
  if (
    options.metrics !== undefined &&
    (typeof options.metrics?.histogram !== 'function' || typeof options.metrics?.counter !== 'function')
  ) {
    read.fail('metrics', 'an object with histogram() and counter() (a @periscope/metrics Metrics)', options.metrics);
  }
  if (options.dropRules !== undefined && !Array.isArray(options.dropRules))
    read.fail('dropRules', 'an array of { name?, attributes? }', options.dropRules);
}

function resolveStore(options: TracingOptions, read: ConfigReader): Required<StoreOptions> | undefined {
  if (options.store === false) return undefined;
  return {
    maxTraces: read.integer('store.maxTraces', options.store?.maxTraces, {
      env: 'PERISCOPE_TRACING_STORE_MAX_TRACES',
      default: 200,
      min: 1,
    }),
    maxSpansPerTrace: read.integer('store.maxSpansPerTrace', options.store?.maxSpansPerTrace, {
      default: 1000,
      min: 1,
    }),
  };
}

function resolveFile(options: TracingOptions, read: ConfigReader): ResolvedConfig['file'] {
  return {
    path: read.string('file.path', options.file?.path, { env: 'PERISCOPE_TRACING_FILE', default: 'traces.jsonl' }),
    maxBytes: read.integer('file.maxBytes', options.file?.maxBytes, { default: 10 * 1024 * 1024, min: 1024 }),
    maxFiles: read.integer('file.maxFiles', options.file?.maxFiles, { default: 3, min: 0 }),
  };
}

function resolveBatch(options: TracingOptions, read: ConfigReader): ResolvedConfig['batch'] {
  const maxQueueSize = read.integer('batch.maxQueueSize', options.batch?.maxQueueSize, { default: 4096, min: 1 });
  return {
    scheduledDelayMs: read.duration('batch.scheduledDelayMs', options.batch?.scheduledDelayMs, {
      default: 2000,
      min: 0,
    }),
    maxQueueSize,
    maxExportBatchSize: read.integer('batch.maxExportBatchSize', options.batch?.maxExportBatchSize, {
      default: Math.min(512, maxQueueSize),
      min: 1,
      max: maxQueueSize,
    }),
  };
}

function resolveContent(options: TracingOptions, read: ConfigReader) {
  return {
    captureContent: read.boolean('captureContent', options.captureContent, {
      env: 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT',
      default: false,
    }),
    contentMaxLength: read.integer('contentMaxLength', options.contentMaxLength, { default: 2000, min: 1 }),
  };
}

function resolveResource(options: TracingOptions, read: ConfigReader) {
  const serviceName = read.string('serviceName', options.serviceName, {
    env: 'OTEL_SERVICE_NAME',
    default: 'unknown_service:node',
  });
  if (serviceName.trim() === '') read.fail('serviceName', 'a non-empty string', serviceName);
  const resourceAttributes: Record<string, string | number | boolean> = {
    ...read.keyValues('resourceAttributes', { env: 'OTEL_RESOURCE_ATTRIBUTES' }),
    ...options.resourceAttributes,
  };
  if (options.serviceVersion) resourceAttributes['service.version'] = options.serviceVersion;

  return { serviceName, resourceAttributes };
}

function resolveInstrumentations(options: TracingOptions, read: ConfigReader): InstrumentationName[] {
  const names = read.list<InstrumentationName | 'auto'>('instrumentations', options.instrumentations, {
    env: 'PERISCOPE_TRACING_INSTRUMENTATIONS',
    default: [],
    accepted: [...INSTRUMENTATIONS, 'auto'],
  });
  return INSTRUMENTATIONS.filter((n) => names.includes('auto') || names.includes(n));
}

export function resolveConfig(options: TracingOptions): ResolvedConfig {
  const read = new ConfigReader({ env: options.env, error: (o, a, g, s) => new TracingConfigError(o, a, g, s) });
  read.rejectUnknown(options, KNOWN_OPTIONS, 'startTracing()');
  checkShapes(options, read);

  const exporterList = read.list<ExporterName>('exporter', options.exporter, {
    env: 'OTEL_TRACES_EXPORTER',
    default: ['memory'],
    accepted: EXPORTERS,
  });
  if (exporterList.length === 0) read.fail('exporter', EXPORTERS.join(', '), 'an empty list');
  const exporters = [...new Set(exporterList)];
  const { otlpUrl, zipkinUrl } = resolveEndpoints(options, read, exporters);

  const sampler = read.oneOf('sampler', options.sampler, SAMPLERS, {
    env: 'OTEL_TRACES_SAMPLER',
    default: 'parentbased_always_on',
  });
  const samplerRatio = read.number('samplerRatio', options.samplerRatio, {
    env: sampler.endsWith('traceidratio') ? 'OTEL_TRACES_SAMPLER_ARG' : undefined,
    default: 1,
    min: 0,
    max: 1,
  });
  const maxSpansPerSecond = read.number('maxSpansPerSecond', options.maxSpansPerSecond, {
    env: 'PERISCOPE_TRACING_MAX_SPANS_PER_SECOND',
    default: undefined,
    min: 0,
  });
  const minDurationMs = read.duration('minDurationMs', options.minDurationMs, {
    env: 'PERISCOPE_TRACING_MIN_DURATION_MS',
    default: 0,
    min: 0,
  });
  const propagators = [
    ...new Set(
      read.list<PropagatorName>('propagators', options.propagators, {
        env: 'OTEL_PROPAGATORS',
        default: ['tracecontext', 'baggage'],
        accepted: PROPAGATORS,
      }),
    ),
  ];
  const { serviceName, resourceAttributes } = resolveResource(options, read);
  return {
    serviceName,
    resourceAttributes,
    exporters,
    otlp: { url: otlpUrl, ...resolveOtlpHeadersAndTimeout(options, read) },
    zipkinUrl,
    file: resolveFile(options, read),
    batch: resolveBatch(options, read),
    sampler,
    samplerRatio,
    maxSpansPerSecond,
    dropRules: options.dropRules ?? DEFAULT_DROP_RULES,
    minDurationMs,
    tailSampling: resolveTail(options, read, sampler, samplerRatio),
    spanMetrics: options.metrics !== undefined && (options.spanMetrics ?? true),
    ...resolveContent(options, read),
    propagators,
    store: resolveStore(options, read),
    resourceUsage: read.boolean('resourceUsage', options.resourceUsage, {
      env: 'PERISCOPE_TRACING_RESOURCE_USAGE',
      default: false,
    }),
    closeTimeoutMs: read.duration('closeTimeoutMs', options.closeTimeoutMs, {
      env: 'PERISCOPE_TRACING_CLOSE_TIMEOUT_MS',
      default: 3000,
      min: 0,
    }),
    instrumentations: resolveInstrumentations(options, read),
  };
}
