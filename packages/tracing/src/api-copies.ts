// Two copies of @opentelemetry/api in one process (an app on 1.10 while npm nested 1.9 under us)
// split the global registry: the app's trace.getActiveSpan(), log correlation and exemplars stop
// seeing our spans, silently. The API's own slot is versioned and checked (it refuses a mismatched
// registration); this says why, once, at start: which copies, where, and what to do.
import fs from 'node:fs';
import path from 'node:path';

const API = '@opentelemetry/api';

export interface ApiCopy {
  version: string;
  dir: string;
}

/** The package root and version of the copy of @opentelemetry/api that `from` resolves (undefined when none). */
export function apiCopyFrom(from: string | undefined): ApiCopy | undefined {
  try {
    const entry = from === undefined ? require.resolve(API) : require.resolve(API, { paths: [from] });
    // The API's exports do not include package.json: walk up from the entry point to it.
    for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const file = path.join(dir, 'package.json');
      if (!fs.existsSync(file)) continue;
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === API) return { version: String(pkg.version), dir: fs.realpathSync(dir) };
    }
  } catch {
    /* not resolvable from there: nothing to compare */
  }
  return undefined;
}

/** The version that registered the API's global slot first (any copy), if one did. */
function registeredVersion(major: string): string | undefined {
  const slot = (globalThis as Record<symbol, { version?: unknown } | undefined>)[
    Symbol.for(`opentelemetry.js.api.${major}`)
  ];
  return typeof slot?.version === 'string' ? slot.version : undefined;
}

/**
 * The problem, in one line, when the application resolves another version of the API than we do
 * (from the working directory or the main script's), or another version registered the globals.
 */
export function describeApiCopies(appDirs: readonly (string | undefined)[]): string | undefined {
  const ours = apiCopyFrom(undefined);
  if (!ours) return undefined;
  const other = appDirs
    .map((d) => (d === undefined ? undefined : apiCopyFrom(d)))
    .find((c) => c !== undefined && c.dir !== ours.dir && c.version !== ours.version);
  const registered = registeredVersion(ours.version.split('.')[0]);
  if (!other && (registered === undefined || registered === ours.version)) return undefined;
  const theirs = other
    ? `${other.version} at ${other.dir} (the application's)`
    : `${registered} (registered the OpenTelemetry globals first)`;
  return (
    `@periscope/tracing: two copies of ${API} are loaded: ${ours.version} at ${ours.dir} (ours) and ${theirs}. ` +
    `Spans, trace.getActiveSpan(), log correlation and exemplars do not cross between them. ` +
    `Install one version that satisfies every package (npm ls ${API}; npm install ${API}@<one version>; npm dedupe).\n`
  );
}

let warned = false;

/** Says on stderr, once per process, when two API copies are loaded. Never throws. */
export function warnOnApiCopies(write: (line: string) => void = (l) => process.stderr.write(l)): void {
  if (warned) return;
  try {
    const main = process.argv[1] ? path.dirname(path.resolve(process.argv[1])) : undefined;
    const line = describeApiCopies([process.cwd(), main]);
    if (line === undefined) return;
    warned = true;
    write(line);
  } catch {
    /* a diagnostic must never stop tracing from starting */
  }
}
