// What spans and metrics say about a statement: its operation, its main table and its text with
// literals replaced by placeholders. Computed once per distinct statement text (bounded cache):
// applications repeat a few statements, and this runs on every query.

export interface StatementInfo {
  /** SELECT, INSERT, … or OTHER (bounded, so safe as a metric label). */
  operation: string;
  /** The main table, when one is easy to see (FROM / INTO / UPDATE / TABLE). */
  collection?: string;
  /** The text with string and number literals replaced by "?" (parameters $n are kept). */
  sanitized: string;
  /** Span name per the database conventions: "{operation} {collection}" or "{operation}". */
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

const CACHE_LIMIT = 1000;
const cache = new Map<string, StatementInfo>();

// Leading comments and whitespace are skipped to find the first keyword.
const LEADING = /^(?:\s+|--[^\n]*\n?|\/\*[\s\S]*?\*\/)*/;
// E'…' strings allow backslash escapes; other strings only double quotes ''; then $tag$…$tag$.
const STRING_LITERAL =
  /(?<!\w)[Ee]'(?:[^'\\]|\\.|'')*'|(?:[BbXxNn]|[Uu]&)?'(?:[^']|'')*'|\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g;
const NUMBER_LITERAL = /(?<![\w$.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b/g;
const COLLECTION =
  /\b(?:FROM|INTO|UPDATE|TABLE|JOIN)\s+((?:"[^"]+"|[A-Za-z_][\w$]*)(?:\.(?:"[^"]+"|[A-Za-z_][\w$]*))?)/i;

export function sanitizeSql(text: string): string {
  return text.replace(STRING_LITERAL, '?').replace(NUMBER_LITERAL, '?');
}

export function statementInfo(text: string): StatementInfo {
  const hit = cache.get(text);
  if (hit) return hit;
  const body = text.replace(LEADING, '');
  const word = /^[A-Za-z]+/.exec(body)?.[0]?.toUpperCase() ?? '';
  const operation = OPERATIONS.has(word) ? word : 'OTHER';
  const sanitized = sanitizeSql(text);
  let collection: string | undefined;
  if (
    operation === 'SELECT' ||
    operation === 'INSERT' ||
    operation === 'UPDATE' ||
    operation === 'DELETE' ||
    operation === 'TABLE' ||
    operation === 'MERGE'
  ) {
    collection = COLLECTION.exec(sanitized)?.[1];
  }
  const info: StatementInfo = {
    operation,
    collection,
    sanitized,
    spanName: collection ? `${operation} ${collection}` : operation,
  };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, info);
  return info;
}
