// One span per statement with @opentelemetry/instrumentation-pg active (issue 18): our span runs
// the driver call with tracing suppressed. In a child process, since Jest's VM cannot run the
// require hooks the contrib instrumentation installs; on the built dist, as a user runs it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { postgresUrl } from '@periscope-tools/testing';

const DIST = path.join(__dirname, '../dist/index.js');
const SCRIPT = path.join(__dirname, 'fixtures/no-duplicates.js');

interface PrintedSpan {
  name: string;
  scope: string;
  attributes: Record<string, unknown>;
}

function runChild(): Promise<PrintedSpan[]> {
  if (!existsSync(DIST))
    throw new Error(`${DIST} is missing: build first (npx tsc -p packages/db-pool/tsconfig.build.json)`);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [SCRIPT, DIST],
      { env: { ...process.env, DATABASE_URL: postgresUrl() }, timeout: 60_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as PrintedSpan[]),
    );
  });
}

test('with instrumentation-pg registered, each statement through the pool has exactly one span: ours', async () => {
  const spans = await runChild();
  const ours = spans.filter((s) => s.scope === '@periscope/db-pool');
  const contribQueries = spans.filter(
    (s) => s.scope === '@opentelemetry/instrumentation-pg' && s.name !== 'pg.connect',
  );
  expect(ours.map((s) => s.attributes['db.query.text'])).toEqual([
    'SELECT ? AS one',
    'SELECT $1::int AS two',
    'SELECT nope FROM no_such_table_nodup',
    'BEGIN',
    'SELECT ? AS three',
    'COMMIT',
    'SELECT ? AS four',
  ]);
  // The instrumentation is live (it traces a bare pg.Client) yet adds nothing for the pool's statements.
  expect(contribQueries).toHaveLength(1);
  expect(JSON.stringify(contribQueries[0].attributes)).toContain('SELECT 5 AS control');
});
