// Issue 21 (mutation testing): every default secret key and suffix is checked by its literal name,
// so dropping or misspelling one entry of the lists fails a test (iterating the exported arrays
// would pass on a mutated list).
import { createRedactor, REDACTED } from '@periscope/core';

const KEYS = [
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

const SUFFIXES = [
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

describe('secret keys (each default by name)', () => {
  const exactOnly = createRedactor({ keySuffixes: false });

  test.each(KEYS)('%s is a secret key without suffix matching', (key) => {
    expect(exactOnly.isSecretKey(key)).toBe(true);
    expect(exactOnly.redact({ [key]: 'hunter2-value', keep: 'visible' })).toEqual({ [key]: REDACTED, keep: 'visible' });
  });

  test.each(SUFFIXES)('a key ending in %s is secret (suffix rule alone)', (suffix) => {
    const suffixOnly = createRedactor({ replaceDefaultKeys: true });
    expect(suffixOnly.isSecretKey(`my_${suffix}`)).toBe(true);
    expect(suffixOnly.isSecretKey(`My-${suffix.toUpperCase()}`)).toBe(true);
  });

  test('ordinary keys are not secret, with or without suffix matching', () => {
    for (const r of [exactOnly, createRedactor()]) {
      for (const key of [
        'user',
        'username',
        'host',
        'port',
        'id',
        'message',
        'passenger',
        'author',
        'keyboard',
        'undefined',
      ]) {
        expect(r.isSecretKey(key)).toBe(false);
      }
    }
  });

  test('keys compare case-insensitively with -, _, . and spaces ignored', () => {
    const r = createRedactor({ keySuffixes: false });
    for (const key of ['API_KEY', 'apiKey', 'api-key', 'API.KEY', 'api key', 'Api-_. Key']) {
      expect(r.isSecretKey(key)).toBe(true);
    }
    expect(r.isSecretKey('api/key')).toBe(false);
  });

  test('replaceDefaultKeys drops the defaults; extra keys are normalized too', () => {
    const r = createRedactor({ replaceDefaultKeys: true, keySuffixes: false, keys: ['X-Tenant_ID'] });
    expect(r.isSecretKey('password')).toBe(false);
    expect(r.isSecretKey('authorization')).toBe(false);
    expect(r.isSecretKey('x.tenant.id')).toBe(true);
    const extended = createRedactor({ keySuffixes: false, keys: ['tenant'] });
    expect(extended.isSecretKey('password')).toBe(true);
    expect(extended.isSecretKey('Tenant')).toBe(true);
  });

  test('keySuffixes: false turns the suffix rule off; the default keeps it on', () => {
    expect(createRedactor({ keySuffixes: false }).isSecretKey('db_password')).toBe(false);
    expect(createRedactor().isSecretKey('db_password')).toBe(true);
    expect(createRedactor({ keySuffixes: true }).isSecretKey('githubToken')).toBe(true);
  });

  test('verdicts stay right past the verdict cache bound (10 000 distinct keys)', () => {
    const r = createRedactor();
    let secret = 0;
    for (let i = 0; i < 10_050; i++) if (r.isSecretKey(`field${i}`)) secret++;
    expect(secret).toBe(0);
    expect(r.isSecretKey('field3_token')).toBe(true);
    expect(r.isSecretKey('field3')).toBe(false);
  });
});
