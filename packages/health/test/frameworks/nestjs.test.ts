import { spawn } from 'node:child_process';
import path from 'node:path';
import { NOOP_LOGGER } from '@periscope/core';
import { createHealthServer } from '../../src';
import { PERISCOPE_HEALTH, PeriscopeHealthIndicator, PeriscopeModule } from '../../src/frameworks/nestjs';
import { request, sleep } from '../helpers';
import { appModule, startNest } from './nest-app';
import { SECRET, frameworkSuite } from './suite';

const root = path.resolve(__dirname, '../../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const fixture = path.join(__dirname, '../fixtures/nest-service.ts');

frameworkSuite(
  'nestjs',
  async ({ health, logger }) => {
    const { app, url } = await startNest(appModule(PeriscopeModule.forRoot({ health }), logger, SECRET));
    return {
      url,
      server: app.getHttpServer(),
      handler: app.getHttpAdapter().getInstance(),
      close: async () => {
        await app.close();
        return health.close();
      },
    };
  },
  { statusCode: 500, message: 'Internal server error' },
); // Nest's own answer: never the message or stack

describe('PeriscopeModule options and the health indicator', () => {
  test('invalid options fail in forRoot, naming the option', () => {
    expect(() => PeriscopeModule.forRoot({} as never)).toThrow(
      /PeriscopeModule.forRoot: health: expected a HealthServer/,
    );
    const health = createHealthServer({ port: 0, metrics: false, env: {} });
    expect(() => PeriscopeModule.forRoot({ health, probe: false } as never)).toThrow(
      /PeriscopeModule.forRoot: probe: expected one of health, metrics, probes/,
    );
    expect(() => PeriscopeModule.forRoot({ health, listen: 'yes' } as never)).toThrow(/listen: expected a boolean/);
    expect(() => PeriscopeModule.forRoot({ health, indicators: { db: 1 } } as never)).toThrow(
      /indicators.db: expected a function/,
    );
  });

  test('terminus-style indicators become checks; PeriscopeHealthIndicator answers in terminus shape', async () => {
    const health = createHealthServer({ port: 0, metrics: false, env: {} });
    let redisUp = true;
    const module = PeriscopeModule.forRoot({
      health,
      indicators: {
        redis: () => ({ redis: { status: redisUp ? 'up' : 'down' } }),
        broken: () => Promise.reject(new Error('pg unreachable')),
      },
    });
    const { app, url } = await startNest(appModule(module, NOOP_LOGGER, SECRET));
    try {
      health.markReady();
      const indicator = app.get(PeriscopeHealthIndicator);
      expect(app.get(PERISCOPE_HEALTH)).toBe(health);
      expect(await indicator.isHealthy('app')).toEqual({
        app: { status: 'down', checks: { redis: 'pass', broken: 'fail' } },
      });
      const verbose = await request(url, '/readyz?verbose');
      expect(verbose.status).toBe(503);
      expect(verbose.body).toContain('[-]broken failed: pg unreachable');
      redisUp = false;
      await sleep(1100); // past the check's minIntervalMs
      expect((await request(url, '/readyz/redis')).body).toContain('down: redis');
    } finally {
      await app.close();
    }
  }, 60_000);

  test('listen: true serves the probes on the health port too; probes: false keeps them off the app port', async () => {
    const health = createHealthServer({ port: 0, host: '127.0.0.1', metrics: false, env: {} });
    const module = PeriscopeModule.forRoot({ health, listen: true, probes: false });
    const { app, url } = await startNest(appModule(module, NOOP_LOGGER, SECRET));
    try {
      expect(health.port).toBeGreaterThan(0);
      expect((await request(`http://127.0.0.1:${health.port}`, '/livez')).body).toBe('ok');
      expect((await request(url, '/livez')).status).toBe(404);
      expect((await request(url, '/tasks/1')).status).toBe(200);
    } finally {
      await app.close();
    }
    expect(health.state).toBe('stopped');
  }, 60_000);
});

describe('SIGTERM with enableShutdownHooks() in a real process', () => {
  test('/readyz 503 first, the in-flight request finishes, then onApplicationShutdown runs', async () => {
    const child = spawn(tsx, ['--tsconfig', path.join(root, 'tsconfig.base.json'), fixture], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const events: Record<string, unknown>[] = [];
    let stderr = '';
    let buffer = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let i; (i = buffer.indexOf('\n')) >= 0; buffer = buffer.slice(i + 1))
        events.push(JSON.parse(buffer.slice(0, i)));
    });
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const next = async (event: string) => {
      for (let i = 0; i < 1500; i++) {
        const found = events.find((e) => e.event === event);
        if (found) return found;
        if (child.exitCode !== null) break;
        await sleep(20);
      }
      throw new Error(`child never emitted ${event}; stderr: ${stderr}`);
    };
    try {
      const { url } = (await next('listening')) as { url: string };
      expect((await request(url, '/readyz')).status).toBe(200);
      const slow = request(url, '/slow');
      await next('slow-started');
      child.kill('SIGTERM');
      await sleep(100);
      expect((await request(url, '/readyz')).status).toBe(503);
      const done = await slow;
      expect(done).toMatchObject({ status: 200, body: 'slow done' });
      // Nest re-raises the signal once closed; tsx (the child's launcher) reports that as 128 + 15.
      const { code, signal } = await exit;
      expect(signal === 'SIGTERM' || code === 143).toBe(true);
      expect(events.map((e) => e.event)).toEqual(['listening', 'slow-started', 'slow-finished', 'resources-closed']);
      expect(events[3]).toMatchObject({ signal: 'SIGTERM', state: 'stopped' });
      expect(stderr).toBe('');
    } finally {
      child.kill('SIGKILL');
      await exit;
    }
  }, 60_000);
});
