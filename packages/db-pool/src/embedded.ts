// @periscope/db-pool/embedded — startEmbeddedPostgres(): PGlite (PostgreSQL compiled to WASM) served over the wire protocol on a
// loopback port by @electric-sql/pglite-socket, so demos and tests run where no PostgreSQL is
// installed. For demos and tests only: PGlite is a single-connection database; pglite-socket
// multiplexes every client connection onto it, so concurrent transactions are NOT isolated from
// each other, and everything runs on this process's event loop.
import { EmbeddedPostgresError } from './errors';

export interface EmbeddedPostgresOptions {
  /** Loopback port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1 (never expose this server). */
  host?: string;
  /**
   * Client connections accepted at once (pglite-socket's default is 1). Set it to at least the
   * pool's poolSize + maxOverflow. Default 32.
   */
  maxConnections?: number;
  /** Directory to persist the database in; default: in memory, gone at close(). */
  dataDir?: string;
}

export interface EmbeddedPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly connectionString: string;
  readonly port: number;
  /** Stops the server and the database. Idempotent. */
  close(): Promise<void>;
}

/** Starts PGlite behind pglite-socket; resolves once it accepts connections. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const host = options.host ?? '127.0.0.1';
  const maxConnections = options.maxConnections ?? 32;
  const port = options.port ?? 0;
  if (!Number.isInteger(maxConnections) || maxConnections < 1)
    throw new EmbeddedPostgresError(`invalid maxConnections ${String(maxConnections)}: expected an integer >= 1`);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new EmbeddedPostgresError(`invalid port ${String(port)}: expected an integer 0-65535`);
  // Loaded on demand with import() (kept as import() by module node16): the WASM database is large
  // and most users of the pool never start it. PGlite itself loads its parts with import(), so it
  // cannot run inside Jest's CommonJS sandbox; the tests host it in a child process.
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-socket'),
  ]);
  let db: InstanceType<typeof PGlite> | undefined;
  try {
    db = await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {});
    const server = new PGLiteSocketServer({ db, host, port, maxConnections });
    await server.start();
    const address = server.getServerConn();
    const actualPort = Number(address.slice(address.lastIndexOf(':') + 1));
    const database = db;
    let closing: Promise<void> | undefined;
    return {
      connectionString: `postgres://postgres@${host}:${actualPort}/postgres`,
      port: actualPort,
      close() {
        closing ??= (async () => {
          await server.stop();
          await database.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await db?.close().catch(() => undefined);
    throw new EmbeddedPostgresError(
      `could not start the embedded PostgreSQL: ${err instanceof Error ? err.message : String(err)}`,
      err,
    );
  }
}
