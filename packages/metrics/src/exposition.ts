// Exposition in Prometheus text 0.0.4 or OpenMetrics 1.0, chosen by the Accept header. Our
// metrics render straight from their series (cached label strings, bucket arrays); other
// metrics in the registry (prom-client's default metrics, anything registered directly) are
// rendered from their `get()`. The render yields to the event loop whenever a slice has run
// for SLICE_MS or holds SLICE_CHARS, so a scrape of a large registry never blocks other work for long.
import type { Registry } from 'prom-client';
import { BaseMetric, PromMetricObject, unitLine } from './base';
import { escapeHelp, escapeLabelValue, formatValue } from './labels';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

const SLICE_MS = 5;
/** At most about this many characters a slice (~64 KiB): a slice's join and socket write stay short too. */
const SLICE_CHARS = 64 * 1024;

/** True when the Accept header prefers OpenMetrics (1.0.0 or 0.0.1) over the text format. */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let om = -1;
  let text = -1;
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    let q = 1;
    let version: string | undefined;
    for (const p of params) {
      const [k, v] = p.split('=').map((x) => x.trim());
      if (k === 'q') q = Number(v);
      else if (k === 'version') version = v;
    }
    if (!(q > 0)) continue;
    if (
      type === 'application/openmetrics-text' &&
      (version === undefined || version === '1.0.0' || version === '0.0.1')
    )
      om = Math.max(om, q);
    else if (type === 'text/plain' || type === '*/*' || type === 'text/*') text = Math.max(text, q);
  }
  return om >= 0 && om >= text;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface ForeignMetric {
  get(): Promise<PromMetricObject> | PromMetricObject;
}

/**
 * The exposition in slices of about SLICE_MS of rendering each, yielding to the event loop
 * between slices: a server can write each slice to the socket as it comes (exposeStream), so
 * neither the rendering nor one huge final string blocks the loop for long.
 */
export async function* renderChunks(
  registry: Registry,
  defaultLabels: Readonly<Record<string, string>>,
  openMetrics: boolean,
): AsyncGenerator<string> {
  let parts: string[] = [];
  let size = 0;
  let deadline = performance.now() + SLICE_MS;
  let n = 0;
  for (const metric of registry.getMetricsAsArray() as unknown[]) {
    if (metric instanceof BaseMetric && metric.type !== 'summary') {
      parts.push(metric.renderHeader(openMetrics));
      const list = metric.allSeries();
      for (let i = 0; i < list.length; i++) {
        const text = metric.renderSeries(list[i], openMetrics);
        parts.push(text);
        size += text.length;
        // Checking the clock every 16 series keeps its cost negligible (a histogram series is ~16 lines).
        // The size bound matters when series come from the render cache: rendering is then nearly
        // free, and what takes the time is joining and writing megabytes at once.
        if ((++n & 15) === 0 && (size > SLICE_CHARS || performance.now() > deadline)) {
          // Joining each slice's lines before yielding spreads the string building over the slices.
          yield parts.join('');
          parts = [];
          size = 0;
          await yieldToLoop();
          deadline = performance.now() + SLICE_MS;
        }
      }
    } else {
      parts.push(renderObject(await (metric as ForeignMetric).get(), defaultLabels, openMetrics));
      if (performance.now() > deadline) {
        yield parts.join('');
        parts = [];
        await yieldToLoop();
        deadline = performance.now() + SLICE_MS;
      }
    }
  }
  if (openMetrics) parts.push('# EOF\n');
  yield parts.join('');
}

/** The whole exposition as one string (rendered in slices; the final copy gets a slice of its own). */
export async function render(
  registry: Registry,
  defaultLabels: Readonly<Record<string, string>>,
  openMetrics: boolean,
): Promise<string> {
  const chunks: string[] = [];
  for await (const chunk of renderChunks(registry, defaultLabels, openMetrics)) chunks.push(chunk);
  if (chunks.length === 1) return chunks[0];
  await yieldToLoop();
  return chunks.join('');
}

/** Renders a prom-client MetricObject (metrics that are not ours). */
export function renderObject(
  metric: PromMetricObject,
  defaultLabels: Readonly<Record<string, string>>,
  openMetrics: boolean,
): string {
  const isCounter = metric.type === 'counter';
  const family = openMetrics && isCounter ? metric.name.replace(/_total$/, '') : metric.name;
  const type = (metric.type as string) === 'untyped' && openMetrics ? 'unknown' : metric.type;
  let out = '# HELP ' + family + ' ' + escapeHelp(metric.help, openMetrics) + '\n# TYPE ' + family + ' ' + type + '\n';
  if (openMetrics) out += unitLine(family);
  const defaults = Object.entries(defaultLabels);
  for (const v of metric.values ?? []) {
    const sample = v.metricName ?? (openMetrics && isCounter ? family + '_total' : metric.name);
    let labels = '';
    for (const [k, value] of Object.entries(v.labels ?? {}))
      labels += (labels ? ',' : '') + k + '="' + escapeLabelValue(String(value)) + '"';
    for (const [k, value] of defaults)
      if (!v.labels || !(k in v.labels)) labels += (labels ? ',' : '') + k + '="' + escapeLabelValue(value) + '"';
    out += (labels ? sample + '{' + labels + '} ' : sample + ' ') + formatValue(v.value);
    const ex = v.exemplar;
    if (openMetrics && ex && ex.labelSet) {
      let exLabels = '';
      for (const [k, value] of Object.entries(ex.labelSet))
        exLabels += (exLabels ? ',' : '') + k + '="' + escapeLabelValue(String(value)) + '"';
      out += ' # {' + exLabels + '} ' + formatValue(ex.value) + (ex.timestamp ? ' ' + ex.timestamp : '');
    }
    out += '\n';
  }
  return out;
}
