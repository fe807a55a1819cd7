// Patterns of the log aggregator: the built-in ones (fatal, auth failure, out of memory,
// connection errors, slow operations) and users' own, compiled once.
import { LoggingConfigError } from './errors';
import { LEVEL_NAMES, isLogLevel } from './levels';
import type { LogRecord, SerializedError } from './record';
import type { AlertSeverity, LogPattern } from './aggregator-types';

export interface CompiledPattern {
  name: string;
  regex: RegExp | null;
  severity: AlertSeverity;
  description: string;
  levels: Set<string> | null;
  test?: (r: LogRecord) => boolean;
}

const SEVERE = new Set(['fatal', 'error', 'warn']);
const SEVERITIES: readonly string[] = ['critical', 'warning', 'info'];

export function compilePattern(p: LogPattern): CompiledPattern {
  if (!p || typeof p.name !== 'string' || p.name === '')
    throw new LoggingConfigError('patterns[].name', 'a non-empty string', p?.name);
  let regex: RegExp;
  try {
    regex =
      p.regex instanceof RegExp
        ? new RegExp(p.regex.source, p.regex.flags.replace(/[gy]/g, ''))
        : new RegExp(String(p.regex), 'i');
  } catch {
    throw new LoggingConfigError(`patterns.${p.name}.regex`, 'a valid regular expression', String(p.regex));
  }
  const severity = p.severity ?? 'warning';
  if (!SEVERITIES.includes(severity))
    throw new LoggingConfigError(`patterns.${p.name}.severity`, 'critical, warning or info', severity);
  if (p.levels !== undefined && (!Array.isArray(p.levels) || p.levels.some((l) => !isLogLevel(l))))
    throw new LoggingConfigError(`patterns.${p.name}.levels`, `log levels (${LEVEL_NAMES.join(', ')})`, p.levels);
  return {
    name: p.name,
    regex,
    severity,
    description: p.description ?? p.name,
    levels: p.levels ? new Set(p.levels) : null,
  };
}

export function builtinPatterns(slowMs: number): CompiledPattern[] {
  const severe = SEVERE;
  return [
    {
      name: 'fatal',
      regex: null,
      severity: 'critical',
      description: 'fatal error or panic',
      levels: null,
      test: (r) =>
        r.level === 'fatal' || (severe.has(r.level) && /(?<!non-)\b(?:fatal|panic(?:ked)?)\b/i.test(textOf(r))),
    },
    {
      name: 'auth_failure',
      severity: 'warning',
      description: 'authentication or authorization failure',
      levels: severe,
      regex:
        /\b(?:auth(?:entication)? failed|authentication failure|unauthori[sz]ed|forbidden|invalid (?:credentials|password|token|api[ _-]?key|signature)|login failed|permission denied|access denied|(?:status|http) 40[13])\b/i,
    },
    {
      name: 'out_of_memory',
      severity: 'critical',
      description: 'out of memory',
      levels: severe,
      regex: /\b(?:out of memory|OOM(?:Killed)?|ENOMEM|heap limit|allocation failed|cannot allocate memory)\b/i,
    },
    {
      name: 'connection_error',
      severity: 'warning',
      description: 'connection refused, reset or timed out',
      levels: severe,
      regex:
        /\b(?:ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|socket hang up|connection (?:refused|reset|timed? ?out|terminated|closed unexpectedly)|connect(?:ion)? timeout)\b/i,
    },
    {
      name: 'slow_operation',
      regex: null,
      severity: 'warning',
      description: `operation slower than ${slowMs} ms`,
      levels: null,
      test: (r) => durationOf(r) >= slowMs,
    },
  ];
}

function durationOf(r: LogRecord): number {
  const d = r.attributes.duration_ms ?? r.attributes.durationMs;
  return typeof d === 'number' ? d : -1;
}

/** The text patterns look at: the message, then the error and its causes (type, message, code). */
export function textOf(r: LogRecord): string {
  let text = r.message;
  let e: unknown = r.error;
  for (let depth = 0; depth < 4 && e !== null && typeof e === 'object'; depth++) {
    const err = e as SerializedError;
    text += ` ${String(err.type)}: ${String(err.message)}${typeof err.code === 'string' ? ` ${err.code}` : ''}`;
    e = err.cause;
  }
  return text;
}
