// Shared test helpers: start tracing into the in-memory store only, and tidy up.
import { startTracing, type Tracing, type TracingOptions } from '../src';

export function startMemory(options: TracingOptions = {}): Tracing {
  return startTracing({ serviceName: 'tracing-test', exporter: 'memory', env: {}, ...options });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
