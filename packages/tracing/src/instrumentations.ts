// Opt-in auto-instrumentation from the OpenTelemetry contrib packages, chosen by name. Each package
// is an optional peer of @periscope/tracing and is loaded only when its name is enabled, so a user
// installs only what they use; a missing one fails startTracing() with the npm package to install.
import type { IncomingMessage } from 'node:http';
import type { InstrumentationName } from './config';
import { TracingConfigError } from './errors';
import type { HeadSampler } from './sampling';

/** What we need of a contrib instrumentation (an InstrumentationBase). */
export interface LoadedInstrumentation {
  readonly instrumentationName: string;
  enable(): void;
  disable(): void;
}

type InstrumentationClass = new (config: object) => LoadedInstrumentation;

export const INSTRUMENTATION_PACKAGES: Readonly<Record<InstrumentationName, { pkg: string; exportName: string }>> = {
  http: { pkg: '@opentelemetry/instrumentation-http', exportName: 'HttpInstrumentation' },
  undici: { pkg: '@opentelemetry/instrumentation-undici', exportName: 'UndiciInstrumentation' },
  pg: { pkg: '@opentelemetry/instrumentation-pg', exportName: 'PgInstrumentation' },
  ioredis: { pkg: '@opentelemetry/instrumentation-ioredis', exportName: 'IORedisInstrumentation' },
  winston: { pkg: '@opentelemetry/instrumentation-winston', exportName: 'WinstonInstrumentation' },
};

/** Loads a package by name (tests pass their own to simulate a package that is not installed). */
export type PackageLoader = (pkg: string) => unknown;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, synchronous load of an optional peer
const requirePackage: PackageLoader = (pkg) => require(pkg);

function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q === -1 ? u : u.slice(0, q);
}

/** Per-instrumentation settings: http skips what our drop rules drop; winston only correlates. */
function configFor(name: InstrumentationName, sampler: HeadSampler): object {
  switch (name) {
    case 'http':
      return {
        // The same drop rules as every other span (the probe and scrape routes by default): no span
        // at all, so no context, no child spans and no exemplars from a probe.
        ignoreIncomingRequestHook: (req: IncomingMessage) =>
          sampler.dropsByRule(req.method ?? '', { 'url.path': pathOf(req.url), 'http.request.method': req.method }),
      };
    case 'winston':
      // trace_id/span_id on each record; records are not also sent to an OpenTelemetry logs SDK.
      return { disableLogSending: true };
    default:
      return {};
  }
}

function isMissing(e: unknown, pkg: string): boolean {
  const err = e as NodeJS.ErrnoException | undefined;
  return err?.code === 'MODULE_NOT_FOUND' && typeof err.message === 'string' && err.message.includes(pkg);
}

/** Creates (and so enables) the named instrumentations; throws TracingConfigError when a package is missing. */
export function createInstrumentations(
  names: readonly InstrumentationName[],
  sampler: HeadSampler,
  load: PackageLoader = requirePackage,
): LoadedInstrumentation[] {
  // Every package is resolved before any is created: a missing one must not leave others enabled.
  const classes = names.map((name) => {
    const { pkg, exportName } = INSTRUMENTATION_PACKAGES[name];
    let mod: Record<string, unknown>;
    try {
      mod = load(pkg) as Record<string, unknown>;
    } catch (e) {
      if (isMissing(e, pkg))
        throw new TracingConfigError(
          'instrumentations',
          `the package ${pkg} installed for '${name}' (npm install ${pkg})`,
          name,
        );
      throw e;
    }
    const cls = mod?.[exportName];
    if (typeof cls !== 'function')
      throw new TracingConfigError('instrumentations', `${pkg} exporting ${exportName}`, name);
    return [name, cls as InstrumentationClass] as const;
  });
  return classes.map(([name, Cls]) => new Cls(configFor(name, sampler)));
}
