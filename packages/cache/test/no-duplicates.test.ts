// One span per Redis command with @opentelemetry/instrumentation-ioredis active (issue 18): our
// L2 span runs the command with tracing suppressed. In a child process, since Jest's VM cannot run
// the require hooks the contrib instrumentation installs; on the built dist, as a user runs it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { redisUrl } from '@periscope-tools/testing';
import { uniqueNs } from './helpers';

const DIST = path.join(__dirname, '../dist/index.js');
const SCRIPT = path.join(__dirname, 'fixtures/no-duplicates.js');

interface PrintedSpan {
  name: string;
  scope: string;
  attributes: Record<string, unknown>;
}

function runChild(): Promise<PrintedSpan[]> {
  if (!existsSync(DIST))
    throw new Error(`${DIST} is missing: build first (npx tsc -p packages/cache/tsconfig.build.json)`);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [SCRIPT, DIST],
      { env: { ...process.env, REDIS_URL: redisUrl(), NAMESPACE: uniqueNs('nodup') }, timeout: 60_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as PrintedSpan[]),
    );
  });
}

it('with instrumentation-ioredis registered, each cache command has exactly one span: ours', async () => {
  const spans = await runChild();
  const ours = spans.filter((s) => s.scope === '@periscope/cache' && s.attributes['db.system.name'] === 'redis');
  const contrib = spans.filter((s) => s.scope === '@opentelemetry/instrumentation-ioredis');
  const meanings = ours.map((s) => s.attributes['periscope.cache.operation']);
  for (const meaning of ['set', 'get', 'lock', 'lock_renew', 'lock_release', 'delete', 'delete_by_tag', 'clear'])
    expect(meanings).toContain(meaning);
  expect(meanings.filter((m) => m === 'get')).toHaveLength(3); // two GETs pipelined in one tick, one for 'c'
  // The instrumentation is live (it traces a bare client under a parent) yet adds nothing for the cache.
  expect(contrib.map((s) => s.name)).toEqual(['echo']);
});
