// Zero-code start: tracing from OTEL_* / PERISCOPE_* variables alone, closed (bounded by
// closeTimeoutMs) on SIGTERM and when the event loop empties, as sdk-node's own register does.
// Loaded by `node --require @periscope/tracing/register` (dist/register.js) and by
// `node --import @periscope/tracing/register` (register.mjs, which also installs the ES-module hook).
import { pathToFileURL } from 'node:url';
import { ConfigReader } from '@periscope/core';
import { resolveConfig } from './config';
import { TracingConfigError } from './errors';
import { isClosedByApp, startTracing, type Tracing } from './tracing';

export interface AutostartOptions {
  /** Called with the loader hook of @opentelemetry/instrumentation when instrumentations are enabled (ES-module apps). */
  registerEsmHook?: (hookUrl: string) => void;
  env?: Record<string, string | undefined>;
}

/**
 * Closes tracing on SIGTERM (then lets the signal end the process when the app does not handle it)
 * and before exit. An app that said it closes tracing itself (configure({ closedByApp: true }))
 * and handles SIGTERM is left to do so after its drain, so the drained requests' spans get out.
 */
function closeOnExit(tracing: Tracing): void {
  const onSigterm = () => {
    // Ours is the only listener: the default action (exit) must still happen once spans are out.
    const alone = process.listenerCount('SIGTERM') === 1;
    if (!alone && isClosedByApp(tracing)) return;
    void tracing.close().finally(() => {
      process.removeListener('SIGTERM', onSigterm);
      if (alone) process.kill(process.pid, 'SIGTERM');
    });
  };
  process.on('SIGTERM', onSigterm);
  process.once('beforeExit', () => void tracing.close());
}

/** Starts tracing from the environment; undefined when OTEL_SDK_DISABLED is true. Throws TracingConfigError on a bad variable. */
export function startFromEnvironment(options: AutostartOptions = {}): Tracing | undefined {
  const env = options.env ?? process.env;
  const read = new ConfigReader({ env, error: (o, a, g, s) => new TracingConfigError(o, a, g, s) });
  if (read.boolean('sdkDisabled', undefined, { env: 'OTEL_SDK_DISABLED', default: false })) return undefined;
  const cfg = resolveConfig({ env });
  if (cfg.instrumentations.length > 0 && options.registerEsmHook) {
    // Resolved from sdk-node, whose dependency it is, so it is found however npm laid out node_modules.
    // Without sdk-node (an optional peer) startTracing() below fails with the error naming it.
    let fromSdk: string | undefined;
    try {
      fromSdk = require.resolve('@opentelemetry/instrumentation/hook.mjs', {
        paths: [require.resolve('@opentelemetry/sdk-node')],
      });
    } catch {
      fromSdk = undefined;
    }
    if (fromSdk !== undefined) options.registerEsmHook(pathToFileURL(fromSdk).href);
  }
  const tracing = startTracing({ env });
  closeOnExit(tracing);
  return tracing;
}
