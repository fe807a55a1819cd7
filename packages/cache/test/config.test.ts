import fc from 'fast-check';
import { ConfigError, PeriscopeError } from '@periscope/core';
import { CacheConfigError, createCache } from '../src';

describe('configuration', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env))
      if (k.startsWith('PERISCOPE_CACHE_') && !(k in saved)) delete process.env[k];
  });

  it.each([
    [{ namespace: '' }, 'namespace'],
    [{ namespace: 'has space' }, 'namespace'],
    [{ namespace: 'ok', l1: { policy: 'random' } }, 'l1.policy'],
    [{ namespace: 'ok', l1: { maxEntries: 0 } }, 'l1.maxEntries'],
    [{ namespace: 'ok', l1: { jitter: 1.5 } }, 'l1.jitter'],
    [{ namespace: 'ok', defaultTtlMs: -1 }, 'defaultTtlMs'],
    [{ namespace: 'ok', graceMs: Number.NaN }, 'graceMs'],
    [{ namespace: 'ok', l2: {} }, 'l2.url'],
    [{ namespace: 'ok', l2: { url: 'http://x' } }, 'l2.url'],
    [{ namespace: 'ok', l2: { url: 'redis://x', timeoutMs: 0 } }, 'l2.timeoutMs'],
    [{ namespace: 'ok', l3: { dir: '' } }, 'l3.dir'],
    [{ namespace: 'ok', distributedLock: true }, 'distributedLock'],
  ])('%j fails at construction naming %s', (options, option) => {
    let err: unknown;
    try {
      createCache(options as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CacheConfigError);
    expect(err).toMatchObject({ code: 'ERR_CACHE_CONFIG', option });
    expect((err as Error).message).toContain('expected');
  });

  it('the error lists the accepted values', () => {
    expect(() => createCache({ namespace: 'ok', l1: { policy: 'mru' as never } })).toThrow(
      /one of lru, lfu, fifo, ttl/,
    );
  });

  it('environment variables (injected env) override defaults; explicit options win over them', async () => {
    const env = { PERISCOPE_CACHE_L1_MAX_ENTRIES: '2', PERISCOPE_CACHE_DEFAULT_TTL_MS: '30ms' };
    const fromEnv = createCache({ namespace: 'env', env });
    await fromEnv.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
      { key: 'c', value: 3 },
    ]);
    expect(fromEnv.stats().l1.entries).toBe(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(await fromEnv.get('c')).toBeUndefined(); // 30 ms default TTL from the env
    await fromEnv.close();
    const explicit = createCache({ namespace: 'env', l1: { maxEntries: 5 }, env });
    await explicit.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
      { key: 'c', value: 3 },
    ]);
    expect(explicit.stats().l1.entries).toBe(3);
    await explicit.close();
  });

  it('process.env is read when no env is injected', async () => {
    process.env.PERISCOPE_CACHE_L1_MAX_ENTRIES = '1';
    const cache = createCache({ namespace: 'penv' });
    await cache.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
    ]);
    expect(cache.stats().l1.entries).toBe(1);
    await cache.close();
  });

  it('an invalid environment variable is named in the error', () => {
    expect(() => createCache({ namespace: 'env', env: { PERISCOPE_CACHE_L1_POLICY: 'bogus' } })).toThrow(
      /PERISCOPE_CACHE_L1_POLICY/,
    );
    expect(() =>
      createCache({
        namespace: 'env',
        l2: { url: 'redis://127.0.0.1:1' },
        env: { PERISCOPE_CACHE_L2_TIMEOUT_MS: 'soon' },
      }),
    ).toThrow(/PERISCOPE_CACHE_L2_TIMEOUT_MS/);
  });

  it.each([
    [{ namespace: 'ok', defaultTtl: 5 }, 'defaultTtl', 'defaultTtlMs'],
    [{ namespace: 'ok', l1: { maxEntrys: 5 } }, 'maxEntrys', 'maxEntries'],
    [{ namespace: 'ok', l2: { url: 'redis://h', timeout: 5 } }, 'timeout', 'timeoutMs'],
    [{ namespace: 'ok', l3: { dir: '/tmp/x', maxbytes: 5 } }, 'maxbytes', 'maxBytes'],
    [{ namespace: 'ok', l2: { url: 'redis://h', breaker: { threshold: 2 } } }, 'threshold', undefined],
  ])('unknown option %j fails naming %s and the nearest known option', (options, unknown, suggestion) => {
    let err: unknown;
    try {
      createCache(options as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CacheConfigError);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(PeriscopeError);
    expect((err as CacheConfigError).option).toBe(unknown);
    if (suggestion) expect((err as Error).message).toContain(`did you mean ${suggestion}?`);
  });

  it('accepts the shared syntax: durations like 2s, booleans like yes/off', async () => {
    const cache = createCache({
      namespace: 'syntax',
      l2: { url: 'redis://127.0.0.1:1' },
      env: {
        PERISCOPE_CACHE_L2_TIMEOUT_MS: '2s',
        PERISCOPE_CACHE_L2_BUS: 'off',
        PERISCOPE_CACHE_CLOSE_TIMEOUT_MS: '0',
      },
    });
    expect(cache.stats().bus).toBeUndefined();
    await cache.close();
  });

  it('never includes a password from l2.url or the L3 MAC key in a config error', () => {
    const messages: string[] = [];
    for (const options of [
      { namespace: 'ok', l2: { url: 'https://user:hunter2@example.com' } },
      { namespace: 'ok', l2: { url: 'redis+sentinel://:hunter2@h1:1,h2:2' } },
      { namespace: 'ok', l3: { dir: '/tmp/x', macKey: 'hunter2' } },
    ]) {
      try {
        createCache(options);
      } catch (e) {
        messages.push((e as Error).message);
      }
    }
    expect(messages).toHaveLength(3);
    expect(messages[0]).toContain('l2.url');
    expect(messages[2]).toContain('l3.macKey');
    expect(messages.join('\n')).not.toContain('hunter2');
  });

  it('property: any option value of the wrong type fails with a CacheConfigError naming that option', () => {
    const numeric = [
      'defaultTtlMs',
      'graceMs',
      'hardTimeoutMs',
      'sweepIntervalMs',
      'closeTimeoutMs',
      'maxDecompressedBytes',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...numeric),
        fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.double({ max: -0.001 }), fc.constant(Number.NaN)),
        (option, value) => {
          let err: unknown;
          try {
            createCache({ namespace: 'prop', [option]: value } as never);
          } catch (e) {
            err = e;
          }
          return err instanceof CacheConfigError && err.option === option && err.code === 'ERR_CACHE_CONFIG';
        },
      ),
      { numRuns: 200 },
    );
  });
});
