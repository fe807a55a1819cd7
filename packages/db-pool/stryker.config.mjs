// Mutation testing (issue 21): `npx nx run db-pool:mutate` (= `npm run mutate` here). Not part of `npm test`.
// The shared settings, MUTATE_TESTS and MUTATE_REPORT: tools/testing/stryker.mjs.
import { strykerConfig } from '@periscope-tools/testing/stryker.mjs';

export default strykerConfig({
  packageName: '@periscope/db-pool',
  mutate: ['src/acquire.ts', 'src/statements.ts', 'src/waiters.ts', 'src/pool.ts:168-235'],
  entries: { '^@periscope/db-pool/embedded$': '<rootDir>/src/embedded.ts' },
  // The suites that drive acquire, statements, waiters and transactions against the real
  // PostgreSQL (and PgBouncer), with observability for the statement spans; embedded only
  // passes through them.
  suites: [
    'test/{pool,transaction,waiters,internals,session,faults,lifecycle,pgbouncer,observability}.test.ts',
    'test/*.mutation.test.ts',
  ],
});
