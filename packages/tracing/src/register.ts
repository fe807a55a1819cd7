// `node --require @periscope/tracing/register app.js`: starts tracing before the app loads, from
// OTEL_* / PERISCOPE_* variables alone. The running instance is exported for the app to read
// (its store, forceFlush) — undefined when OTEL_SDK_DISABLED is true.
import { startFromEnvironment } from './autostart';

export const tracing = startFromEnvironment();
