// A structural logger so any logger (winston, pino, console, @periscope/logging) fits without a dependency.
export interface CacheLogger {
  warn(message: string, meta?: Record<string, unknown>): void;
  info?(message: string, meta?: Record<string, unknown>): void;
  error?(message: string, meta?: Record<string, unknown>): void;
}

/** A URL with its password and username replaced, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    u.searchParams.forEach((_v, k) => {
      if (/pass|token|secret|key/i.test(k)) u.searchParams.set(k, '***');
    });
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}
