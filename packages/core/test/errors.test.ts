import { ConfigError, PeriscopeError, describeValue, REDACTED } from '@periscope/core';

type CacheCode = 'ERR_CACHE_CONFIG';
class CacheConfigError extends ConfigError<CacheCode> {
  constructor(option: string, accepted: string, got: unknown, suggestion?: string) {
    super(option, accepted, got, { code: 'ERR_CACHE_CONFIG', suggestion });
  }
}

describe('PeriscopeError', () => {
  it('carries a typed code, the message, the cause, and the subclass name', () => {
    const root = new Error('ECONNREFUSED');
    class PoolTimeoutError extends PeriscopeError<'ERR_DB_POOL_TIMEOUT'> {}
    const err = new PoolTimeoutError('ERR_DB_POOL_TIMEOUT', 'no connection within 2000 ms', { cause: root });
    expect(err).toBeInstanceOf(PeriscopeError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ERR_DB_POOL_TIMEOUT');
    expect(err.message).toBe('no connection within 2000 ms');
    expect(err.cause).toBe(root);
    expect(err.name).toBe('PoolTimeoutError');
    expect(String(err.stack)).toContain('PoolTimeoutError: no connection within 2000 ms');
  });

  it('has no cause property when none is given', () => {
    const err = new PeriscopeError('ERR_X', 'plain');
    expect('cause' in err).toBe(false);
    expect(err.name).toBe('PeriscopeError');
  });
});

describe('ConfigError', () => {
  it('says which option was wrong, what is accepted and what it got', () => {
    const err = new ConfigError('l2.timeoutMs', 'a number >= 1', -5);
    expect(err.message).toBe('invalid l2.timeoutMs: expected a number >= 1, got -5');
    expect(err.code).toBe('ERR_CONFIG');
    expect([err.option, err.accepted, err.got]).toEqual(['l2.timeoutMs', 'a number >= 1', '-5']);
    expect(err).toBeInstanceOf(PeriscopeError);
  });

  it("takes a package's own code and a suggestion through a subclass", () => {
    const cause = new TypeError('bad');
    const err = new CacheConfigError('ttlMs', 'a known option', 'tllMs', 'ttlMs');
    expect(err.message).toBe('invalid ttlMs: expected a known option, got "tllMs"; did you mean ttlMs?');
    expect(err.code).toBe('ERR_CACHE_CONFIG');
    expect(err.name).toBe('CacheConfigError');
    expect(err).toBeInstanceOf(ConfigError);
    const withCause = new ConfigError('x', 'y', 'z', { cause });
    expect(withCause.cause).toBe(cause);
  });

  it('never quotes a secret it was given', () => {
    const err = new ConfigError('DATABASE_URL', 'a URL', 'postgres://app:s3cr3t-Pa55@db:5432/app');
    expect(err.message).not.toContain('s3cr3t-Pa55');
    expect(err.message).toContain(`postgres://app:${REDACTED}@db:5432/app`);
    expect(err.got).not.toContain('s3cr3t');
    const token = new ConfigError('header', 'a header', 'Authorization: Bearer abcdefghijklmnop1234');
    expect(token.message).not.toContain('abcdefghijklmnop1234');
  });
});

describe('describeValue', () => {
  it('renders every kind of value shortly', () => {
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(null)).toBe('null');
    expect(describeValue('abc')).toBe('"abc"');
    expect(describeValue(3.5)).toBe('3.5');
    expect(describeValue(true)).toBe('true');
    expect(describeValue(10n)).toBe('10');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue([1, 2, 3])).toBe('an array of 3');
    expect(describeValue(/x/g)).toBe('/x/g');
    expect(describeValue(new Map())).toBe('an object (Map)');
    expect(describeValue(Object.create(null))).toBe('an object (Object)');
    expect(describeValue(Symbol('s'))).toBe('symbol');
  });

  it('cuts long strings, with an ellipsis, and never lets a cut secret through', () => {
    const shown = describeValue('x'.repeat(10_000));
    expect(shown.length).toBeLessThan(90);
    expect(shown.endsWith('…"')).toBe(true);
    expect(describeValue(`token=${'s'.repeat(500)}`)).not.toContain('sss');
    expect(describeValue(`postgres://u:${'p'.repeat(400)}@db/app`)).not.toContain('ppp');
  });
});
