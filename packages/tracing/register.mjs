// `node --import @periscope/tracing/register app.mjs`: the ES-module entry. When instrumentations are
// enabled it first installs @opentelemetry/instrumentation's loader hook (import-in-the-middle), so
// ES modules such as `import pg from 'pg'` are patched too; then it starts tracing as the CommonJS
// entry does (dist/autostart.js).
import { createRequire, register } from 'node:module';

const require = createRequire(import.meta.url);
const { startFromEnvironment } = require('./dist/autostart.js');

export const tracing = startFromEnvironment({ registerEsmHook: (hookUrl) => register(hookUrl, import.meta.url) });
