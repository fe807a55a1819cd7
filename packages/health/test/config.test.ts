import { ConfigError } from '@periscope/core';
import { createHealthServer, HealthConfigError, type HealthServerOptions } from '@periscope/health';
import { request } from './helpers';

const ENV_KEYS = [
  'PERISCOPE_HEALTH_PORT',
  'PERISCOPE_HEALTH_HOST',
  'PERISCOPE_HEALTH_DRAIN_DELAY_MS',
  'PERISCOPE_HEALTH_HANDLE_SIGNALS',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'PERISCOPE_DEBUG_TOKEN',
];
const saved: Record<string, string | undefined> = {};
beforeEach(() => {
  for (const k of ENV_KEYS) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
});
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

function configError(options: HealthServerOptions): HealthConfigError {
  try {
    createHealthServer(options);
  } catch (err) {
    expect(err).toBeInstanceOf(HealthConfigError);
    return err as HealthConfigError;
  }
  throw new Error('expected a HealthConfigError');
}

describe('configuration', () => {
  it('takes service id, version and debug token from the environment when no option is given', async () => {
    process.env.OTEL_SERVICE_NAME = 'agent-7';
    process.env.OTEL_RESOURCE_ATTRIBUTES = 'deployment.environment=prod,service.version=2.0.1%2Bbuild5';
    process.env.PERISCOPE_DEBUG_TOKEN = 'env-token';
    const server = createHealthServer({ port: 0, metrics: false });
    server.route('GET', '/debug/ping', (_req, res) => {
      res.end('pong');
    });
    const { url } = await server.listen();
    try {
      const doc = JSON.parse((await request(url, '/health')).body);
      expect(doc).toMatchObject({ serviceId: 'agent-7', version: '2.0.1+build5' });
      expect((await request(url, '/debug/ping', { headers: { authorization: 'Bearer env-token' } })).body).toBe('pong');
    } finally {
      await server.close();
    }
  });

  it('uses PERISCOPE_HEALTH_PORT/HOST when no option is given, and the option when both are', async () => {
    process.env.PERISCOPE_HEALTH_PORT = '0';
    process.env.PERISCOPE_HEALTH_HOST = 'localhost';
    const fromEnv = createHealthServer({ metrics: false });
    const fromOption = createHealthServer({ metrics: false, host: '127.0.0.1', port: 0 });
    try {
      expect((await fromEnv.listen()).host).toBe('localhost');
      expect((await fromOption.listen()).host).toBe('127.0.0.1');
    } finally {
      await Promise.all([fromEnv.close(), fromOption.close()]);
    }
  });

  it('names the bad option and the accepted values', () => {
    expect(configError({ port: 70000 }).message).toBe('invalid port: expected an integer in [0, 65535], got 70000');
    expect(configError({ port: 70000 })).toMatchObject({ option: 'port', code: 'ERR_HEALTH_CONFIG' });
    expect(configError({ port: 70000 })).toBeInstanceOf(ConfigError);
    expect(configError({ drainDelayMs: -1 }).message).toMatch(/^invalid drainDelayMs: expected a number in \[0, /);
    expect(configError({ handleSignals: 'yes' as unknown as boolean }).message).toBe(
      'invalid handleSignals: expected a boolean, got "yes"',
    );
    expect(configError({ host: '' }).message).toMatch(/^invalid host: expected a non-empty string/);
    expect(configError({ metrics: {} as never }).message).toMatch(/^invalid metrics: expected a Metrics instance/);
    expect(configError({ redact: 'no' as never }).option).toBe('redact');
    expect(configError({ logger: 'stderr' as never }).option).toBe('logger');
  });

  it('fails on an unknown option, naming the nearest known one', () => {
    const err = configError({ drainDelay: 100 } as never);
    expect(err.option).toBe('drainDelay');
    expect(err.message).toMatch(/got "an unknown option"; did you mean drainDelayMs\?$/);
  });

  it('names the bad env var', () => {
    process.env.PERISCOPE_HEALTH_DRAIN_DELAY_MS = 'soon';
    expect(configError({}).message).toBe(
      'invalid PERISCOPE_HEALTH_DRAIN_DELAY_MS: expected a duration (e.g. 500, 250ms, 2s, 1m, 1h), got "soon"',
    );
    delete process.env.PERISCOPE_HEALTH_DRAIN_DELAY_MS;
    process.env.PERISCOPE_HEALTH_HANDLE_SIGNALS = 'maybe';
    expect(configError({}).option).toBe('PERISCOPE_HEALTH_HANDLE_SIGNALS');
    // An injected env is read instead of process.env.
    expect(configError({ env: { PERISCOPE_HEALTH_MAX_CONNECTIONS: '0' } }).option).toBe(
      'PERISCOPE_HEALTH_MAX_CONNECTIONS',
    );
  });

  it('accepts the house syntax in the environment: durations and yes/no booleans', async () => {
    const server = createHealthServer({
      metrics: false,
      env: { PERISCOPE_HEALTH_PORT: '0', PERISCOPE_HEALTH_DRAIN_DELAY_MS: '2s', PERISCOPE_HEALTH_HANDLE_SIGNALS: 'no' },
    });
    expect((await server.listen()).port).toBeGreaterThan(0);
    await server.close();
  });

  it('uses a custom redact function for /status', async () => {
    const server = createHealthServer({
      port: 0,
      metrics: false,
      redact: (v) => JSON.parse(JSON.stringify(v).replace(/internal-\w+/g, '***')),
    });
    server.addStatus('gpu', () => ({ host: 'internal-node17' }));
    const { url } = await server.listen();
    try {
      expect(JSON.parse((await request(url, '/status')).body).gpu).toEqual({ host: '***' });
    } finally {
      await server.close();
    }
  });

  it('rejects reserved and duplicate status names, and bad hooks', () => {
    const server = createHealthServer({ port: 0, metrics: false });
    expect(() => server.addStatus('version', () => 1)).toThrow(/not reserved .*got "version"/);
    server.addStatus('cache', () => 1);
    expect(() => server.addStatus('cache', () => 2)).toThrow(/already registered/);
    expect(() => server.onShutdown('x', 'nope' as never)).toThrow(HealthConfigError);
    expect(() => server.onShutdown('x', () => undefined, { timeoutMs: 0 })).toThrow(/^invalid onShutdown x: timeoutMs/);
    return server.close();
  });
});
