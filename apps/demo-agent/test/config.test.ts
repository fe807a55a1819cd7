import path from 'node:path';
import { defaultOutDir, parseConfig, UsageError } from '../src/config';

test('defaults, env vars and flags, flags winning', () => {
  expect(parseConfig([], {})).toEqual({
    tasks: 50,
    concurrency: 4,
    seed: expect.any(Number),
    port: 9464,
    host: '127.0.0.1',
    provider: 'sim',
    exit: false,
    errorRate: 0.02,
    latencyScale: 1,
    maxConcurrentTasks: 8,
    maxQueuedTasks: 32,
    alertmanager: '',
    outDir: defaultOutDir(),
    redisUrl: 'redis://127.0.0.1:6379',
    peerUrl: '',
  });
  expect(
    parseConfig(['--max-concurrent-tasks', '3'], { PERISCOPE_DEMO_MAX_QUEUED_TASKS: '5', PERISCOPE_DEMO_EXIT: 'on' }),
  ).toMatchObject({ maxConcurrentTasks: 3, maxQueuedTasks: 5, exit: true });
  expect(parseConfig(['--seed', '42'], {})).toMatchObject({ seed: 42 });
  expect(parseConfig([], { PERISCOPE_DEMO_SEED: '7' })).toMatchObject({ seed: 7 });
  const c = parseConfig(['--tasks=5', '--exit', '--provider', 'openai'], {
    PERISCOPE_DEMO_TASKS: '9',
    PERISCOPE_DEMO_CONCURRENCY: '2',
  });
  expect(c).toMatchObject({ tasks: 5, concurrency: 2, exit: true, provider: 'openai' });
  expect(parseConfig(['--help'], {})).toBe('help');
});

test('--alertmanager / PERISCOPE_ALERTMANAGER_URL and --out-dir / PERISCOPE_DEMO_OUT_DIR', () => {
  expect(parseConfig([], { PERISCOPE_ALERTMANAGER_URL: 'http://127.0.0.1:9093' })).toMatchObject({
    alertmanager: 'http://127.0.0.1:9093',
  });
  expect(
    parseConfig(['--alertmanager', 'https://am.example:9093'], { PERISCOPE_ALERTMANAGER_URL: 'http://127.0.0.1:9093' }),
  ).toMatchObject({ alertmanager: 'https://am.example:9093' });
  expect(parseConfig(['--out-dir', 'profiles'], {})).toMatchObject({ outDir: path.resolve('profiles') });
  expect(parseConfig([], { PERISCOPE_DEMO_OUT_DIR: '/var/tmp/p' })).toMatchObject({ outDir: '/var/tmp/p' });
});

test.each([
  [['--concurrency', '0'], '--concurrency must be an integer from 1 to 256, got "0"'],
  [['--port', '70000'], '--port must be an integer from 0 to 65535'],
  [['--provider', 'claude'], '--provider must be sim or openai, got "claude"'],
  [['--seed'], '--seed needs a value'],
  [['--seed', 'x'], '--seed must be an integer from 0 to 2147483647, got "x"'],
  [['tasks'], 'unknown argument "tasks"'],
  [['--error-rate', '1.5'], '--error-rate must be a number from 0 to 1'],
  [['--max-concurrent-tasks', '0'], '--max-concurrent-tasks must be an integer from 1 to 1024, got "0"'],
  [
    ['--alertmanager', 'localhost:9093'],
    '--alertmanager must be an http(s) URL like http://127.0.0.1:9093, got "localhost:9093"',
  ],
])('%j is a usage error', (argv, message) => {
  expect(() => parseConfig(argv, {})).toThrow(UsageError);
  expect(() => parseConfig(argv, {})).toThrow(message);
});

test('an invalid env var is named in the error', () => {
  expect(() => parseConfig([], { PERISCOPE_DEMO_TASKS: '-3' })).toThrow(
    'PERISCOPE_DEMO_TASKS must be an integer from 0 to 100000, got "-3"',
  );
});

describe('Redis: the forms of @periscope/cache, from REDIS_URL or the cache variable', () => {
  test.each([
    ['redis://cache.internal:6380/2'],
    ['rediss://:pw@cache.example:6380'],
    ['redis+cluster://10.0.0.1:7000,10.0.0.2:7001,10.0.0.3'],
    ['rediss+cluster://default:pw@node-1.example:6379,node-2.example:6379'],
    ['redis+sentinel://s1:26379,s2:26379,s3/mymaster'],
    ['redis+sentinel://:pw@s1,s2/mymaster/1?sentinelPassword=spw'],
  ])('%s is accepted as given', (url) => {
    expect(parseConfig([], { REDIS_URL: url })).toMatchObject({ redisUrl: url });
    expect(parseConfig([], { PERISCOPE_CACHE_L2_URL: url })).toMatchObject({ redisUrl: url });
    expect(parseConfig(['--redis-url', url], {})).toMatchObject({ redisUrl: url });
  });

  test('REDIS_URL wins over PERISCOPE_CACHE_L2_URL, the flag over both; off turns L2 off', () => {
    const env = { REDIS_URL: 'redis://a:6379', PERISCOPE_CACHE_L2_URL: 'redis://b:6379' };
    expect(parseConfig([], env)).toMatchObject({ redisUrl: 'redis://a:6379' });
    expect(parseConfig(['--redis-url=redis://c:6379'], env)).toMatchObject({ redisUrl: 'redis://c:6379' });
    expect(parseConfig([], { REDIS_URL: 'off' })).toMatchObject({ redisUrl: '' });
  });

  test.each([
    ['REDIS_URL', 'memcached://h:11211'],
    ['REDIS_URL', 'redis+sentinel://s1,s2'],
    ['PERISCOPE_CACHE_L2_URL', 'redis+cluster://h1:99999'],
  ])('%s=%s is a usage error naming the variable', (variable, url) => {
    expect(() => parseConfig([], { [variable]: url })).toThrow(UsageError);
    expect(() => parseConfig([], { [variable]: url })).toThrow(`invalid ${variable}: expected redis://`);
  });

  test('a rejected URL does not show its password', () => {
    let message = '';
    try {
      parseConfig([], { REDIS_URL: 'redis+sentinel://:hunter2secret@s1,s2' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/invalid REDIS_URL/);
    expect(message).not.toContain('hunter2secret');
  });
});

test('--peer-url / PERISCOPE_DEMO_PEER_URL: an http(s) base URL or off', () => {
  expect(parseConfig([], { PERISCOPE_DEMO_PEER_URL: 'http://127.0.0.1:9466' })).toMatchObject({
    peerUrl: 'http://127.0.0.1:9466',
  });
  expect(() => parseConfig(['--peer-url', 'ftp://x'], {})).toThrow(
    '--peer-url must be an http(s) URL like http://127.0.0.1:9466, got "ftp://x"',
  );
});
