// Options of startTracing(), their defaults and the environment variables that fill them in.
// Explicit options win over the environment; every value is validated here, once, so a bad
// setting fails at start with one message naming the option and what it accepts.
import { TracingConfigError } from './errors';
import type { MetricsLike } from './metrics';

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
    /** Extra request headers (e.g. authorization). OTEL_EXPORTER_OTLP_HEADERS is read by the exporter too. */
    headers?: Record<string, string>;
    /** Default 10000. */
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
}

/** Userinfo and query strings can hold credentials: never echo them in an error. */
export function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    u.search = '';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function oneOf<T extends string>(option: string, allowed: readonly T[], value: string): T {
  const v = value.trim().toLowerCase();
  if (!(allowed as readonly string[]).includes(v))
    throw new TracingConfigError(option, allowed.join(', '), JSON.stringify(value));
  return v as T;
}

function num(
  option: string,
  value: number | string | undefined,
  fallback: number,
  check: { min: number; max?: number; integer?: boolean },
): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  const range = `a${check.integer ? 'n integer' : ' number'} >= ${check.min}${check.max !== undefined ? ` and <= ${check.max}` : ''}`;
  if (
    !Number.isFinite(n) ||
    n < check.min ||
    (check.max !== undefined && n > check.max) ||
    (check.integer && !Number.isInteger(n))
  ) {
    throw new TracingConfigError(option, range, JSON.stringify(value));
  }
  return n;
}

function bool(option: string, value: boolean | string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new TracingConfigError(option, 'true, false', JSON.stringify(value));
}

function httpUrl(option: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new TracingConfigError(option, 'an http:// or https:// URL', JSON.stringify(safeUrl(value)));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new TracingConfigError(option, 'an http:// or https:// URL', JSON.stringify(safeUrl(value)));
  return value;
}

/** OTEL_RESOURCE_ATTRIBUTES: `key=value` pairs, comma separated, values percent-encoded. */
function parseResourceAttributes(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const pair of list(raw)) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new TracingConfigError('OTEL_RESOURCE_ATTRIBUTES', 'comma-separated key=value pairs', JSON.stringify(pair));
    let value = pair.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      /* keep the raw text: a stray % is not worth failing start for */
    }
    out[pair.slice(0, eq).trim()] = value;
  }
  return out;
}

export function resolveConfig(options: TracingOptions): ResolvedConfig {
  const env = options.env ?? process.env;

  const exporterRaw = options.exporter ?? (env.OTEL_TRACES_EXPORTER ? list(env.OTEL_TRACES_EXPORTER) : ['memory']);
  const exporterList = typeof exporterRaw === 'string' ? [exporterRaw] : [...exporterRaw];
  const option = options.exporter !== undefined ? 'exporter' : 'OTEL_TRACES_EXPORTER';
  if (exporterList.length === 0) throw new TracingConfigError(option, EXPORTERS.join(', '), 'an empty list');
  const exporters = [...new Set(exporterList.map((e) => oneOf(option, EXPORTERS, e)))];

  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (protocol !== undefined && protocol !== '' && exporters.includes('otlp'))
    oneOf('OTEL_EXPORTER_OTLP_PROTOCOL', ['http/protobuf'], protocol);

  const otlpUrl =
    options.otlp?.endpoint !== undefined
      ? `${httpUrl('otlp.endpoint', options.otlp.endpoint).replace(/\/+$/, '')}/v1/traces`
      : env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
        ? httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
        : `${httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces`;

  const zipkinUrl =
    options.zipkin?.endpoint !== undefined
      ? httpUrl('zipkin.endpoint', options.zipkin.endpoint)
      : httpUrl(
          'OTEL_EXPORTER_ZIPKIN_ENDPOINT',
          env.OTEL_EXPORTER_ZIPKIN_ENDPOINT || 'http://localhost:9411/api/v2/spans',
        );

  const sampler =
    options.sampler !== undefined
      ? oneOf('sampler', SAMPLERS, options.sampler)
      : env.OTEL_TRACES_SAMPLER
        ? oneOf('OTEL_TRACES_SAMPLER', SAMPLERS, env.OTEL_TRACES_SAMPLER)
        : 'parentbased_always_on';
  const samplerRatio =
    options.samplerRatio !== undefined
      ? num('samplerRatio', options.samplerRatio, 1, { min: 0, max: 1 })
      : num('OTEL_TRACES_SAMPLER_ARG', sampler.endsWith('traceidratio') ? env.OTEL_TRACES_SAMPLER_ARG : undefined, 1, {
          min: 0,
          max: 1,
        });

  const maxSpansPerSecond =
    options.maxSpansPerSecond !== undefined || env.PERISCOPE_TRACING_MAX_SPANS_PER_SECOND
      ? num(
          options.maxSpansPerSecond !== undefined ? 'maxSpansPerSecond' : 'PERISCOPE_TRACING_MAX_SPANS_PER_SECOND',
          options.maxSpansPerSecond ?? env.PERISCOPE_TRACING_MAX_SPANS_PER_SECOND,
          0,
          { min: 0 },
        )
      : undefined;

  const minDurationMs =
    options.minDurationMs !== undefined
      ? num('minDurationMs', options.minDurationMs, 0, { min: 0 })
      : num('PERISCOPE_TRACING_MIN_DURATION_MS', env.PERISCOPE_TRACING_MIN_DURATION_MS, 0, { min: 0 });

  const tailOn =
    options.tailSampling !== undefined
      ? options.tailSampling !== false
      : bool('PERISCOPE_TRACING_TAIL_SAMPLING', env.PERISCOPE_TRACING_TAIL_SAMPLING, false);
  let tailSampling: ResolvedTailSampling | undefined;
  if (tailOn) {
    const t: TailSamplingOptions = typeof options.tailSampling === 'object' ? options.tailSampling : {};
    tailSampling = {
      slowerThanMs:
        t.slowerThanMs !== undefined
          ? num('tailSampling.slowerThanMs', t.slowerThanMs, 1000, { min: 0 })
          : num('PERISCOPE_TRACING_SLOWER_THAN_MS', env.PERISCOPE_TRACING_SLOWER_THAN_MS, 1000, { min: 0 }),
      ratio: num('tailSampling.ratio', t.ratio, sampler.endsWith('traceidratio') ? samplerRatio : 0, {
        min: 0,
        max: 1,
      }),
      graceMs: num('tailSampling.graceMs', t.graceMs, 1000, { min: 0 }),
      maxTraces: num('tailSampling.maxTraces', t.maxTraces, 1000, { min: 1, integer: true }),
      maxSpans: num('tailSampling.maxSpans', t.maxSpans, 20000, { min: 1, integer: true }),
      traceTimeoutMs: num('tailSampling.traceTimeoutMs', t.traceTimeoutMs, 60000, { min: 1 }),
    };
  }

  const propagatorsRaw =
    options.propagators ?? (env.OTEL_PROPAGATORS ? list(env.OTEL_PROPAGATORS) : ['tracecontext', 'baggage']);
  const propOption = options.propagators !== undefined ? 'propagators' : 'OTEL_PROPAGATORS';
  const propagators = [...new Set(propagatorsRaw.map((p) => oneOf(propOption, PROPAGATORS, p)))];

  const store =
    options.store === false
      ? undefined
      : {
          maxTraces: num('store.maxTraces', options.store?.maxTraces ?? env.PERISCOPE_TRACING_STORE_MAX_TRACES, 200, {
            min: 1,
            integer: true,
          }),
          maxSpansPerTrace: num('store.maxSpansPerTrace', options.store?.maxSpansPerTrace, 1000, {
            min: 1,
            integer: true,
          }),
        };

  if (options.redact !== undefined && typeof options.redact !== 'function')
    throw new TracingConfigError('redact', 'a function (text: string) => string', typeof options.redact);
  if (
    options.metrics !== undefined &&
    (typeof options.metrics?.histogram !== 'function' || typeof options.metrics?.counter !== 'function')
  ) {
    throw new TracingConfigError(
      'metrics',
      'an object with histogram() and counter() (a @periscope/metrics Metrics)',
      typeof options.metrics,
    );
  }
  if (options.dropRules !== undefined && !Array.isArray(options.dropRules))
    throw new TracingConfigError('dropRules', 'an array of { name?, attributes? }', typeof options.dropRules);

  const serviceName = options.serviceName ?? env.OTEL_SERVICE_NAME ?? 'unknown_service:node';
  if (typeof serviceName !== 'string' || serviceName.trim() === '')
    throw new TracingConfigError(
      options.serviceName !== undefined ? 'serviceName' : 'OTEL_SERVICE_NAME',
      'a non-empty string',
      JSON.stringify(serviceName),
    );

  const resourceAttributes: Record<string, string | number | boolean> = {
    ...parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES),
    ...options.resourceAttributes,
  };
  if (options.serviceVersion) resourceAttributes['service.version'] = options.serviceVersion;

  return {
    serviceName,
    resourceAttributes,
    exporters,
    otlp: {
      url: otlpUrl,
      headers: { ...options.otlp?.headers },
      timeoutMs: num('otlp.timeoutMs', options.otlp?.timeoutMs, 10000, { min: 1 }),
    },
    zipkinUrl,
    file: {
      path: options.file?.path ?? env.PERISCOPE_TRACING_FILE ?? 'traces.jsonl',
      maxBytes: num('file.maxBytes', options.file?.maxBytes, 10 * 1024 * 1024, { min: 1024, integer: true }),
      maxFiles: num('file.maxFiles', options.file?.maxFiles, 3, { min: 0, integer: true }),
    },
    batch: {
      scheduledDelayMs: num('batch.scheduledDelayMs', options.batch?.scheduledDelayMs, 2000, { min: 0 }),
      maxQueueSize: num('batch.maxQueueSize', options.batch?.maxQueueSize, 4096, { min: 1, integer: true }),
      maxExportBatchSize: num('batch.maxExportBatchSize', options.batch?.maxExportBatchSize, 512, {
        min: 1,
        max: options.batch?.maxQueueSize ?? 4096,
        integer: true,
      }),
    },
    sampler,
    samplerRatio,
    maxSpansPerSecond,
    dropRules: options.dropRules ?? DEFAULT_DROP_RULES,
    minDurationMs,
    tailSampling,
    spanMetrics: options.metrics !== undefined && (options.spanMetrics ?? true),
    captureContent:
      options.captureContent ??
      bool(
        'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT',
        env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
        false,
      ),
    contentMaxLength: num('contentMaxLength', options.contentMaxLength, 2000, { min: 1, integer: true }),
    propagators,
    store,
    resourceUsage:
      options.resourceUsage ?? bool('PERISCOPE_TRACING_RESOURCE_USAGE', env.PERISCOPE_TRACING_RESOURCE_USAGE, false),
  };
}
