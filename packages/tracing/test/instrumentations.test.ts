// Choosing auto-instrumentations by name: option and environment, 'auto', typos, a package that is
// not installed, and the probe routes the http instrumentation must leave alone.
import type { IncomingMessage } from 'node:http';
import { INSTRUMENTATIONS, startTracing, TracingConfigError } from '../src';
import { resolveConfig } from '../src/config';
import { TracingMetrics } from '../src/instrumentation';
import { createInstrumentations, INSTRUMENTATION_PACKAGES } from '../src/instrumentations';
import { baseSampler, HeadSampler } from '../src/sampling';
import { DEFAULT_DROP_RULES } from '../src/config';

const sampler = new HeadSampler(
  baseSampler('always_on', 1),
  DEFAULT_DROP_RULES,
  undefined,
  new TracingMetrics(undefined, false),
);

describe('instrumentations option', () => {
  it('defaults to none, reads PERISCOPE_TRACING_INSTRUMENTATIONS, and expands auto to all five', () => {
    expect(resolveConfig({ env: {} }).instrumentations).toEqual([]);
    expect(resolveConfig({ env: { PERISCOPE_TRACING_INSTRUMENTATIONS: 'pg, http' } }).instrumentations).toEqual([
      'http',
      'pg',
    ]);
    expect(resolveConfig({ env: { PERISCOPE_TRACING_INSTRUMENTATIONS: 'auto' } }).instrumentations).toEqual([
      ...INSTRUMENTATIONS,
    ]);
    // The option wins over the environment.
    expect(
      resolveConfig({ instrumentations: 'ioredis', env: { PERISCOPE_TRACING_INSTRUMENTATIONS: 'auto' } })
        .instrumentations,
    ).toEqual(['ioredis']);
  });

  it('refuses an unknown name with the nearest known one', () => {
    expect(() => startTracing({ instrumentations: ['pgg' as 'pg'], env: {} })).toThrow(TracingConfigError);
    expect(() => resolveConfig({ env: { PERISCOPE_TRACING_INSTRUMENTATIONS: 'http,redis' } })).toThrow(
      /invalid PERISCOPE_TRACING_INSTRUMENTATIONS: expected a list of http, undici, pg, ioredis, winston, auto, got "redis"/,
    );
    expect(() => resolveConfig({ instrumentations: ['undic' as 'undici'], env: {} })).toThrow(/did you mean undici\?/);
  });

  it('names the npm package to install when an instrumentation package is missing', () => {
    // A real failed require: the package name with a suffix that no package has.
    const load = (pkg: string) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a real MODULE_NOT_FOUND
      return require(pkg.endsWith('-pg') ? `${pkg}-not-installed` : pkg) as unknown;
    };
    let error: unknown;
    try {
      createInstrumentations(['http', 'pg'], sampler, (pkg) => load(pkg));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TracingConfigError);
    expect((error as TracingConfigError).code).toBe('ERR_TRACING_CONFIG');
    expect((error as Error).message).toMatch(/npm install @opentelemetry\/instrumentation-pg/);
  });

  it('has each contrib package installed as a dev dependency, exporting the class we construct', () => {
    for (const { pkg, exportName } of Object.values(INSTRUMENTATION_PACKAGES)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- checks the real packages
      expect(typeof (require(pkg) as Record<string, unknown>)[exportName]).toBe('function');
    }
  });

  it('the http instrumentation ignores the probe and scrape routes by the same drop rules', () => {
    const [http] = createInstrumentations(['http'], sampler);
    try {
      const hook = (http as unknown as { getConfig(): { ignoreIncomingRequestHook(r: unknown): boolean } }).getConfig()
        .ignoreIncomingRequestHook;
      const req = (url: string) => ({ url, method: 'GET' }) as IncomingMessage;
      expect(hook(req('/livez'))).toBe(true);
      expect(hook(req('/metrics?name=x'))).toBe(true);
      expect(hook(req('/tasks/1'))).toBe(false);
    } finally {
      http.disable();
    }
  });
});
