// The pool against the embedded PostgreSQL (PGlite over pglite-socket), which runs in a child
// process: PGlite loads its parts with import(), which Jest's CommonJS sandbox does not allow.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createPool, DbPool, EmbeddedPostgresError, QueryError } from '../src';
import { startEmbeddedPostgres } from '../src/embedded';
import { captureLogger } from './helpers';

let child: ChildProcessWithoutNullStreams;
let connectionString: string;
let pool: DbPool;

beforeAll(async () => {
  const tsx = require.resolve('tsx/cli');
  child = spawn(process.execPath, [tsx, path.join(__dirname, 'fixtures/embedded-server.ts')], {
    env: { ...process.env, EMBEDDED_MAX_CONNECTIONS: '6' },
  });
  connectionString = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => reject(new Error(`embedded server exited (${code}): ${err}`)));
  });
  pool = createPool({
    connectionString,
    poolSize: 2,
    maxOverflow: 2,
    applicationName: 'dbpool_embedded',
    logger: captureLogger(),
  });
}, 60_000);

afterAll(async () => {
  await pool?.close();
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.stdin.end();
    await exited;
  }
});

test('the embedded server listens on loopback and the pool runs queries on it', async () => {
  expect(connectionString).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
  const r = await pool.query<{ n: number }>('SELECT $1::int * 2 AS n', [21]);
  expect(r.rows).toEqual([{ n: 42 }]);
});

test('full-text search, transactions and rollback work on it', async () => {
  await pool.query('CREATE TABLE IF NOT EXISTS kb (id serial PRIMARY KEY, body text NOT NULL)');
  await pool.transaction(async (tx) => {
    await tx.query(
      "INSERT INTO kb (body) VALUES ('GPU scheduling for inference'), ('Redis caching of embeddings'), ('PostgreSQL connection pools')",
    );
  });
  await expect(
    pool.transaction(async (tx) => {
      await tx.query("INSERT INTO kb (body) VALUES ('never committed')");
      throw new Error('abort');
    }),
  ).rejects.toThrow('abort');
  const hits = await pool.query<{ body: string }>(
    "SELECT body FROM kb WHERE to_tsvector('english', body) @@ plainto_tsquery('english', $1)",
    ['pool'],
  );
  expect(hits.rows.map((r) => r.body)).toEqual(['PostgreSQL connection pools']);
  const all = await pool.query<{ n: string }>('SELECT count(*) AS n FROM kb');
  expect(all.rows[0].n).toBe('3');
  await expect(pool.query('SELECT * FROM missing_table')).rejects.toBeInstanceOf(QueryError);
});

test('concurrent callers share the connections the server allows (maxConnections)', async () => {
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) => pool.query<{ i: number }>('SELECT $1::int AS i', [i])),
  );
  expect(results.map((r) => r.rows[0].i)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  expect(pool.stats().total).toBeLessThanOrEqual(4);
});

test('validation round trips work against it', async () => {
  const checked = createPool({
    connectionString,
    poolSize: 1,
    validateAfterIdleMs: 0,
    applicationName: 'dbpool_embedded_v',
    logger: captureLogger(),
  });
  try {
    await checked.query('SELECT 1');
    await new Promise((r) => setTimeout(r, 5));
    await checked.query('SELECT 1');
    expect(checked.stats()).toMatchObject({ validationFailures: 0, destroyed: 0 });
    expect(checked.stats().validations).toBeGreaterThanOrEqual(1);
  } finally {
    await checked.close();
  }
});

test('invalid embedded options fail with a typed error before anything starts', async () => {
  await expect(startEmbeddedPostgres({ maxConnections: 0 })).rejects.toBeInstanceOf(EmbeddedPostgresError);
  await expect(startEmbeddedPostgres({ port: 70000 })).rejects.toBeInstanceOf(EmbeddedPostgresError);
});
