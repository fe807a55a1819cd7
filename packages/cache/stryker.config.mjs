// Mutation testing (issue 21): `npx nx run cache:mutate` (= `npm run mutate` here). Not part of `npm test`.
// Incremental: results are kept in reports/stryker-incremental.json and only changed code/tests are re-run.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const preset = require('@periscope-tools/testing/jest-preset');
// MUTATE_TESTS=a,b runs only test/a.test.ts and test/b.test.ts: a narrow run on a busy machine.
const only = process.env.MUTATE_TESTS?.split(',').map((t) => `<rootDir>/test/${t.trim()}.test.ts`);
// MUTATE_REPORT=name keeps that run's sandbox, incremental file and reports apart (reports/name/…), so
// narrow runs of different modules can run side by side (sandbox in .stryker-tmp/name).
const sub = process.env.MUTATE_REPORT ? `/${process.env.MUTATE_REPORT}` : '';

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
    // The workspace preset maps @periscope/cache to the checked-out source; inside Stryker's sandbox
    // it must resolve to the sandbox's (mutated) copy, so this package's entry comes first.
    config: {
      moduleNameMapper: { '^@periscope/cache$': '<rootDir>/src/index.ts', ...preset.moduleNameMapper },
      // The suites that drive the breaker, the invalidation bus, the serializer and the disk tier (real
      // Redis); the rest (cluster, sentinel, spans, no-duplicates) only pass through them and would
      // multiply the time per mutant on a two-core machine.
      testMatch: only ?? [
        '<rootDir>/test/{breaker,bus,serializer,decoder,disk,disk-security,tiers,faults}.test.ts',
        '<rootDir>/test/*.mutation.test.ts',
      ],
    },
    enableFindRelatedTests: false,
  },
  mutate: ['src/breaker.ts', 'src/bus.ts', 'src/serializer.ts', 'src/disk-tier.ts'],
  coverageAnalysis: 'perTest',
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 10000,
  // The first run (all tests, with per-test coverage) is slow on a loaded two-core machine.
  dryRunTimeoutMinutes: 20,
  incremental: true,
  incrementalFile: `reports${sub}/stryker-incremental.json`,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports${sub}/mutation/index.html` },
  jsonReporter: { fileName: `reports${sub}/mutation/mutation.json` },
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: `.stryker-tmp${sub}`,
};
