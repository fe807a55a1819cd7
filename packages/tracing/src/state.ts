// What the running startTracing() instance lends to the module-level helpers (trace(), GenAI,
// propagation). Before start and after shutdown the helpers use the global API, which is a
// no-op unless another SDK is registered.
import { context, trace, type ContextManager, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { InstrumentationName } from './config';
import type { HeadSampler } from './sampling';

export const INSTRUMENTATION_NAME = '@periscope/tracing';

export interface ActiveTracing {
  tracer: Tracer;
  captureContent: boolean;
  contentMaxLength: number;
  redact?: (text: string) => string;
  propagator: TextMapPropagator;
  /** Our registered context manager: calling it directly skips the global API's lookup on every span. */
  contextManager: ContextManager;
  /** The provider's head sampler: trace() asks its drop rules before starting a span. */
  sampler: HeadSampler;
  /** Contrib instrumentations enabled: our own HTTP helpers step aside for them (one span per request, not two). */
  autoInstrumented: ReadonlySet<InstrumentationName>;
}

export const DEFAULT_PROPAGATOR: TextMapPropagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

let active: ActiveTracing | undefined;

export function getActive(): ActiveTracing | undefined {
  return active;
}

export function setActive(state: ActiveTracing | undefined): void {
  active = state;
}

export function getTracer(): Tracer {
  return active?.tracer ?? trace.getTracer(INSTRUMENTATION_NAME);
}

/** Where trace() and the GenAI helpers read and set the active context: ours while started, else the global API. */
export function getContextManager(): Pick<ContextManager, 'active' | 'with'> {
  return active?.contextManager ?? context;
}

export function getPropagator(): TextMapPropagator {
  return active?.propagator ?? DEFAULT_PROPAGATOR;
}

/** Whether a contrib instrumentation covers this kind of call now. */
export function isAutoInstrumented(name: InstrumentationName): boolean {
  return active?.autoInstrumented.has(name) ?? false;
}

/** Redacts when a redactor is configured; used for content and exception text. */
export function redactText(text: string): string {
  return active?.redact ? active.redact(text) : text;
}
