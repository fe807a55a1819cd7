// This package's version, for the instrumentation scope of its tracer (exporters print and send it).
function readVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the same relative path from src/ and dist/
    const version = (require('../package.json') as { version?: unknown }).version;
    return typeof version === 'string' ? version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const PACKAGE_VERSION = readVersion();
