// Mutation testing (issue 21): `npx nx run db-pool:mutate` (= `npm run mutate` here). Not part of `npm test`.
// Incremental: results are kept in reports/stryker-incremental.json and only changed code/tests are re-run.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const preset = require('@periscope-tools/testing/jest-preset');
// MUTATE_TESTS=a,b runs only test/a.test.ts and test/b.test.ts: a narrow run on a busy machine.
const only = process.env.MUTATE_TESTS?.split(',').map((t) => `<rootDir>/test/${t.trim()}.test.ts`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    // The workspace preset maps @periscope/db-pool to the checked-out source; inside Stryker's sandbox
    // it must resolve to the sandbox's (mutated) copy, so this package's entry comes first.
    config: {
      moduleNameMapper: { '^@periscope/db-pool$': '<rootDir>/src/index.ts', ...preset.moduleNameMapper },
      // The suites that drive acquire, statements, waiters and transactions against the real
      // PostgreSQL (and PgBouncer), with observability for the statement spans; embedded only
      // passes through them.
      testMatch: only ?? [
        '<rootDir>/test/{pool,transaction,waiters,internals,session,faults,lifecycle,pgbouncer,observability}.test.ts',
        '<rootDir>/test/*.mutation.test.ts',
      ],
    },
    enableFindRelatedTests: false,
  },
  mutate: ['src/acquire.ts', 'src/statements.ts', 'src/waiters.ts', 'src/pool.ts:168-235'],
  coverageAnalysis: 'perTest',
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 10000,
  // The first run (all tests, with per-test coverage) is slow on a loaded two-core machine.
  dryRunTimeoutMinutes: 20,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: '.stryker-tmp',
};
