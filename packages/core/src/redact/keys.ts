// Which property, header and field names hold secrets. Keys are compared case-insensitively with
// `-`, `_`, `.` and spaces removed, so api_key = apiKey = api-key = API.KEY.

/** Secret keys matched case-insensitively, ignoring `-` and `_` (so api_key = apiKey = api-key). */
export const DEFAULT_REDACT_KEYS: readonly string[] = [
  'password',
  'passwords',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'secret',
  'secrets',
  'token',
  'api_key',
  'apikey',
  'x-api-key',
  'authorization',
  'proxy-authorization',
  'auth',
  'cookie',
  'cookies',
  'set-cookie',
  'session',
  'jwt',
  'signature',
  'sig',
  'private_key',
  'private_key_pem',
  'client_secret',
  'access_key',
  'access_key_id',
  'secret_access_key',
  'session_token',
  'refresh_token',
  'access_token',
  'id_token',
  'encryption_key',
  'signing_key',
  'master_key',
  'credentials',
  'credential',
  'connection_string',
  'dsn',
];

/** A key ending in one of these (after normalization) is secret too: db_password, githubToken, stripeSecret. */
export const DEFAULT_REDACT_KEY_SUFFIXES: readonly string[] = [
  'password',
  'passwords',
  'passwd',
  'secret',
  'secrets',
  'token',
  'apikey',
  'privatekey',
  'privatekeypem',
  'accesskey',
  'secretkey',
  'encryptionkey',
  'signingkey',
  'credentials',
  'sessionid',
  'subscriptionkey',
  'cookie',
  'cookies',
  'signature',
  'jwt',
];

export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[-_\s.]/g, '');
}

export interface KeyRules {
  keys?: readonly string[];
  replaceDefaultKeys?: boolean;
  keySuffixes?: boolean;
}

/**
 * How many raw keys a matcher remembers verdicts for; past that the memory starts over, so a
 * stream of ever-new keys (hostile or generated field names) cannot grow it without bound.
 * @internal
 */
export const KEY_VERDICT_CACHE_MAX = 10_000;

/** Whether a key holds a secret, with the verdicts remembered so far. */
export interface KeyMatcher {
  (key: string): boolean;
  /** @internal How many verdicts are remembered now (never above KEY_VERDICT_CACHE_MAX); for tests. */
  readonly cachedVerdicts: number;
}

/** A verdict per raw key, remembered (bounded): keys repeat endlessly in logs. */
export function createKeyMatcher(rules: KeyRules): KeyMatcher {
  const keySet = new Set<string>();
  if (!rules.replaceDefaultKeys) for (const k of DEFAULT_REDACT_KEYS) keySet.add(normalizeKey(k));
  if (rules.keys) for (const k of rules.keys) keySet.add(normalizeKey(k));
  const matchSuffixes = rules.keySuffixes !== false;
  const cache = new Map<string, boolean>();
  function isSecretKey(key: string): boolean {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const n = normalizeKey(key);
    const secret = keySet.has(n) || (matchSuffixes && DEFAULT_REDACT_KEY_SUFFIXES.some((s) => n.endsWith(s)));
    if (cache.size >= KEY_VERDICT_CACHE_MAX) cache.clear();
    cache.set(key, secret);
    return secret;
  }
  return Object.defineProperty(isSecretKey, 'cachedVerdicts', { get: () => cache.size }) as KeyMatcher;
}
