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
      /'lru' \| 'lfu' \| 'fifo' \| 'ttl'/,
    );
  });

  it('environment variables override defaults; explicit options win over them', async () => {
    process.env.PERISCOPE_CACHE_L1_MAX_ENTRIES = '2';
    process.env.PERISCOPE_CACHE_DEFAULT_TTL_MS = '30';
    const fromEnv = createCache({ namespace: 'env' });
    await fromEnv.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
      { key: 'c', value: 3 },
    ]);
    expect(fromEnv.stats().l1.entries).toBe(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(await fromEnv.get('c')).toBeUndefined(); // 30 ms default TTL from the env
    await fromEnv.close();
    const explicit = createCache({ namespace: 'env', l1: { maxEntries: 5 } });
    await explicit.setMany([
      { key: 'a', value: 1 },
      { key: 'b', value: 2 },
      { key: 'c', value: 3 },
    ]);
    expect(explicit.stats().l1.entries).toBe(3);
    await explicit.close();
  });

  it('an invalid environment variable is named in the error', () => {
    process.env.PERISCOPE_CACHE_L1_POLICY = 'bogus';
    expect(() => createCache({ namespace: 'env' })).toThrow(/PERISCOPE_CACHE_L1_POLICY/);
    delete process.env.PERISCOPE_CACHE_L1_POLICY;
    process.env.PERISCOPE_CACHE_L2_TIMEOUT_MS = 'soon';
    expect(() => createCache({ namespace: 'env', l2: { url: 'redis://127.0.0.1:1' } })).toThrow(
      /PERISCOPE_CACHE_L2_TIMEOUT_MS/,
    );
  });

  it('never includes a password from l2.url in a config error', () => {
    let message = '';
    try {
      createCache({ namespace: 'ok', l2: { url: 'https://user:hunter2@example.com' } });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('l2.url');
    expect(message).not.toContain('hunter2');
  });
});
