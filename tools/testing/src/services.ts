// What a test needs to reach the real services found (or started) by the Jest global setup.
export { freePort, canConnect } from '../services.js';

function required(urlEnv: string, problemEnv: string): string {
  const problem = process.env[problemEnv];
  if (problem) throw new Error(problem);
  const url = process.env[urlEnv];
  if (!url)
    throw new Error(
      `${urlEnv} is not set: run the tests through Jest's global setup (npm test, or nx test <project>).`,
    );
  return url;
}

/** The PostgreSQL URL for integration tests; throws the one message that says how to get a server. */
export function postgresUrl(): string {
  return required('DATABASE_URL', 'PERISCOPE_TEST_POSTGRES_PROBLEM');
}

/** The Redis URL for integration tests; throws the one message that says how to get a server. */
export function redisUrl(): string {
  return required('REDIS_URL', 'PERISCOPE_TEST_REDIS_PROBLEM');
}
