// Builds the sinks behind the pipeline: the trace store, and one batching processor per
// external exporter (OTLP http/protobuf, Zipkin, console, JSON-lines file).
import { promises as fs } from 'node:fs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ZipkinExporter } from '@opentelemetry/exporter-zipkin';

// The OTLP and Zipkin exporters (and what they pull in: otlp-transformer, sdk-metrics, protobuf)
// are loaded when configured, not at import: most processes use one exporter or none.
/* eslint-disable @typescript-eslint/no-require-imports -- lazy, synchronous loads of configured exporters */
const loadOtlp = () =>
  (require('@opentelemetry/exporter-trace-otlp-proto') as { OTLPTraceExporter: typeof OTLPTraceExporter })
    .OTLPTraceExporter;
const loadZipkin = () =>
  (require('@opentelemetry/exporter-zipkin') as { ZipkinExporter: typeof ZipkinExporter }).ZipkinExporter;
/* eslint-enable @typescript-eslint/no-require-imports */
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { ResolvedConfig } from './config';
import type { TracingMetrics } from './instrumentation';
import type { SpanSink } from './pipeline';
import { toSpanRecord } from './record';
import type { TraceStore } from './store';

/**
 * The SDK's console exporter, without `version: undefined` (or `schemaUrl: undefined`) in the
 * instrumentation scope of spans whose tracer was created without them.
 */
export class TidyConsoleSpanExporter extends ConsoleSpanExporter {
  override export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    super.export(spans.map(tidyScope), done);
  }
}

function tidyScope(span: ReadableSpan): ReadableSpan {
  const scope = span.instrumentationScope;
  if (scope.version !== undefined && scope.schemaUrl !== undefined) return span;
  const tidy: ReadableSpan['instrumentationScope'] = {
    name: scope.name,
    ...(scope.version !== undefined && { version: scope.version }),
    ...(scope.schemaUrl !== undefined && { schemaUrl: scope.schemaUrl }),
  };
  // The span itself stays as it is (other sinks share it): a view with another scope.
  return Object.create(span, { instrumentationScope: { value: tidy } }) as ReadableSpan;
}

/** Appends spans as JSON lines; when the file would pass maxBytes it is rotated to path.1 … path.maxFiles. */
export class FileSpanExporter implements SpanExporter {
  private queue: Promise<void> = Promise.resolve();
  private size: number | undefined;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly maxFiles: number,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.closed)
      return resultCallback({ code: ExportResultCode.FAILED, error: new Error('file exporter is shut down') });
    const text = spans.map((s) => JSON.stringify(toSpanRecord(s)) + '\n').join('');
    this.queue = this.queue
      .then(() => this.write(text))
      .then(
        () => resultCallback({ code: ExportResultCode.SUCCESS }),
        (error: Error) => resultCallback({ code: ExportResultCode.FAILED, error }),
      );
  }

  private async write(text: string): Promise<void> {
    const bytes = Buffer.byteLength(text);
    if (this.size === undefined) {
      const stat = await fs.stat(this.path).catch(() => undefined);
      this.size = stat?.size ?? 0;
      // Spans can hold prompts and URLs: the file is the owner's alone, even one made before us.
      if (stat !== undefined && (stat.mode & 0o077) !== 0) await fs.chmod(this.path, 0o600);
    }
    if (this.size > 0 && this.size + bytes > this.maxBytes) {
      await this.rotate();
      this.size = 0;
    }
    await fs.appendFile(this.path, text, { mode: 0o600 });
    this.size += bytes;
  }

  private async rotate(): Promise<void> {
    const ignoreMissing = (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    };
    if (this.maxFiles === 0) return fs.rm(this.path, { force: true });
    await fs.rm(`${this.path}.${this.maxFiles}`, { force: true });
    for (let i = this.maxFiles - 1; i >= 1; i--)
      await fs.rename(`${this.path}.${i}`, `${this.path}.${i + 1}`).catch(ignoreMissing);
    await fs.rename(this.path, `${this.path}.1`).catch(ignoreMissing);
  }

  async forceFlush(): Promise<void> {
    await this.queue;
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    await this.queue;
  }
}

/** Spans handed to an exporter's queue and what became of them, so close() can say what was lost. */
export class ExportLedger {
  handed = 0;
  exported = 0;
  failed = 0;
  get pending(): number {
    return Math.max(0, this.handed - this.exported - this.failed);
  }
}

/** Counts failed batches per exporter: an export error is logged by the SDK, never silently lost. */
class CountingExporter implements SpanExporter {
  constructor(
    private readonly name: string,
    private readonly inner: SpanExporter,
    private readonly metrics: TracingMetrics,
    private readonly ledger: ExportLedger,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) {
        this.metrics.exportFailed(this.name);
        this.metrics.drop('export_failed', spans.length);
        this.ledger.failed += spans.length;
      } else this.ledger.exported += spans.length;
      resultCallback(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** A batch processor whose intake is counted in the exporter's ledger. */
class CountedBatch extends BatchSpanProcessor {
  constructor(
    exporter: SpanExporter,
    config: ConstructorParameters<typeof BatchSpanProcessor>[1],
    private readonly ledger: ExportLedger,
  ) {
    super(exporter, config);
  }
  override onEnd(span: ReadableSpan): void {
    if (span.spanContext().traceFlags & 1) this.ledger.handed++;
    super.onEnd(span);
  }
}

class StoreSink implements SpanSink {
  constructor(private readonly store: TraceStore) {}
  onEnd(span: ReadableSpan): void {
    this.store.add(span);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

function makeExporter(name: 'otlp' | 'zipkin' | 'console' | 'file', cfg: ResolvedConfig): SpanExporter {
  switch (name) {
    case 'otlp':
      return new (loadOtlp())({ url: cfg.otlp.url, headers: cfg.otlp.headers, timeoutMillis: cfg.otlp.timeoutMs });
    case 'zipkin':
      return new (loadZipkin())({ url: cfg.zipkinUrl, serviceName: cfg.serviceName });
    case 'console':
      return new TidyConsoleSpanExporter();
    case 'file':
      return new FileSpanExporter(cfg.file.path, cfg.file.maxBytes, cfg.file.maxFiles);
  }
}

export function buildSinks(
  cfg: ResolvedConfig,
  store: TraceStore | undefined,
  metrics: TracingMetrics,
  ledgers: Map<string, ExportLedger>,
): SpanSink[] {
  const sinks: SpanSink[] = [];
  if (store) sinks.push(new StoreSink(store));
  for (const name of cfg.exporters) {
    if (name === 'memory' || name === 'none') continue;
    const ledger = new ExportLedger();
    ledgers.set(name, ledger);
    const exporter = new CountingExporter(name, makeExporter(name, cfg), metrics, ledger);
    const batch = {
      scheduledDelayMillis: cfg.batch.scheduledDelayMs,
      maxQueueSize: cfg.batch.maxQueueSize,
      maxExportBatchSize: cfg.batch.maxExportBatchSize,
      exportTimeoutMillis: cfg.otlp.timeoutMs,
    };
    sinks.push(new CountedBatch(exporter, batch, ledger));
  }
  return sinks;
}
