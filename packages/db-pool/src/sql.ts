// What spans and metrics say about a statement. Spans: a query summary per the database
// conventions ("{operation} {target} …", as written, never put into db.operation.name or
// db.collection.name) and the text with literals replaced by "?" for non-parameterized queries.
// Metrics: a bounded operation label. Computed once per distinct statement text (bounded cache):
// applications repeat a few statements, and this runs on every query.

export interface StatementInfo {
  /** SELECT, INSERT, … or OTHER: the bounded label of the query duration metric (not a span attribute). */
  operation: string;
  /** `db.query.summary`: operations and their targets as written ("SELECT kb", "INSERT orders SELECT cart"), when parsed. */
  summary?: string;
  /** The text with string and number literals replaced by "?" (parameters $n are kept). */
  sanitized: string;
  /** Span name without a connection: the summary, else "postgresql" (the conventions' last fallback; never "OTHER"); spans use the database as the target ahead of it. */
  spanName: string;
}

const OPERATIONS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'WITH',
  'VALUES',
  'COPY',
  'CALL',
  'DO',
  'BEGIN',
  'START',
  'COMMIT',
  'ROLLBACK',
  'SAVEPOINT',
  'RELEASE',
  'SET',
  'SHOW',
  'CREATE',
  'ALTER',
  'DROP',
  'TRUNCATE',
  'GRANT',
  'REVOKE',
  'EXPLAIN',
  'ANALYZE',
  'VACUUM',
  'LOCK',
  'LISTEN',
  'NOTIFY',
  'UNLISTEN',
  'PREPARE',
  'EXECUTE',
  'DEALLOCATE',
  'DISCARD',
  'RESET',
  'REFRESH',
  'TABLE',
]);
/** Operations that may appear anywhere in a statement (subqueries, INSERT … SELECT, CTE bodies). */
const INNER_OPERATIONS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE']);
/** Keywords after which a target (table) follows. */
const TARGET_BEFORE = new Set(['FROM', 'JOIN', 'INTO', 'UPDATE', 'TABLE', 'TRUNCATE', 'USING', 'COPY', 'LOCK']);
/** DDL object kinds kept in the summary ("CREATE TABLE kb"). */
const DDL_KINDS = new Set([
  'TABLE',
  'INDEX',
  'VIEW',
  'SCHEMA',
  'SEQUENCE',
  'FUNCTION',
  'EXTENSION',
  'TYPE',
  'DATABASE',
]);
/** Words that never are a target (skipped while a target is expected). */
const NOT_TARGET = new Set(['ONLY', 'IF', 'NOT', 'EXISTS', 'LATERAL', 'TABLE', 'UNIQUE', 'CONCURRENTLY', 'ON']);
const CLAUSE_END = new Set([
  'WHERE',
  'GROUP',
  'ORDER',
  'LIMIT',
  'HAVING',
  'RETURNING',
  'ON',
  'SET',
  'VALUES',
  'WINDOW',
]);
const SUMMARY_LIMIT = 255;

const CACHE_LIMIT = 1000;
const cache = new Map<string, StatementInfo>();

// Leading comments and whitespace are skipped to find the first keyword.
const LEADING = /^(?:\s+|--[^\n]*\n?|\/\*[\s\S]*?\*\/)*/;
// E'…' strings allow backslash escapes; other strings only double quotes ''; then $tag$…$tag$.
const STRING_LITERAL =
  /(?<!\w)[Ee]'(?:[^'\\]|\\.|'')*'|(?:[BbXxNn]|[Uu]&)?'(?:[^']|'')*'|\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g;
const NUMBER_LITERAL = /(?<![\w$.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b/g;
const COMMENTS = /--[^\n]*|\/\*[\s\S]*?\*\//g;
// Quoted or plain (possibly qualified) identifiers, and the punctuation the summary cares about.
const TOKEN = /(?:"[^"]*"|[A-Za-z_][\w$]*)(?:\.(?:"[^"]*"|[A-Za-z_][\w$]*))*|[(),;]/g;

export function sanitizeSql(text: string): string {
  return text.replace(STRING_LITERAL, '?').replace(NUMBER_LITERAL, '?');
}

/**
 * `db.query.summary` of a statement: its operations and their targets in order, as written
 * ("SELECT songs artists", "INSERT shipping SELECT orders"); undefined when the first word is no
 * SQL command. Truncated at 255 characters between parts.
 */
export function querySummary(sanitized: string): string | undefined {
  const parts: string[] = [];
  let expectTarget = false;
  let list = false; // inside a FROM list: a comma brings the next target
  let first = true;
  let ddl = false;
  for (const match of sanitized.replace(COMMENTS, ' ').matchAll(TOKEN)) {
    const token = match[0];
    const upper = token.toUpperCase();
    if (first) {
      first = false;
      if (!OPERATIONS.has(upper)) return undefined;
      if (upper !== 'WITH') parts.push(token); // a CTE's operations follow
      ddl = upper === 'CREATE' || upper === 'ALTER' || upper === 'DROP';
      expectTarget = TARGET_BEFORE.has(upper);
      continue;
    }
    if (ddl) {
      ddl = false;
      if (DDL_KINDS.has(upper)) {
        parts.push(token);
        expectTarget = true;
        continue;
      }
    }
    if (token === ',') {
      if (list) expectTarget = true;
      continue;
    }
    if (token === '(' || token === ')' || token === ';') {
      expectTarget = false;
      list = false;
      continue;
    }
    if (INNER_OPERATIONS.has(upper)) {
      parts.push(token);
      expectTarget = upper === 'UPDATE';
      list = false;
      continue;
    }
    if (TARGET_BEFORE.has(upper)) {
      expectTarget = true;
      list = upper === 'FROM' || upper === 'USING';
      continue;
    }
    if (CLAUSE_END.has(upper)) {
      expectTarget = false;
      list = false;
      continue;
    }
    if (expectTarget && !NOT_TARGET.has(upper)) {
      parts.push(token);
      expectTarget = false;
    }
  }
  if (parts.length === 0) return undefined;
  let summary = parts[0];
  for (let i = 1; i < parts.length && summary.length + 1 + parts[i].length <= SUMMARY_LIMIT; i++)
    summary += ` ${parts[i]}`;
  return summary.slice(0, SUMMARY_LIMIT);
}

export function statementInfo(text: string): StatementInfo {
  const hit = cache.get(text);
  if (hit) return hit;
  const body = text.replace(LEADING, '');
  const word = /^[A-Za-z]+/.exec(body)?.[0]?.toUpperCase() ?? '';
  const operation = OPERATIONS.has(word) ? word : 'OTHER';
  const sanitized = sanitizeSql(text);
  const summary = operation === 'OTHER' ? undefined : querySummary(sanitized);
  const info: StatementInfo = { operation, summary, sanitized, spanName: summary ?? 'postgresql' };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, info);
  return info;
}
