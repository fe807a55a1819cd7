// One StrykerJS configuration for every package's `mutate` target (issue 21): each package's
// stryker.config.mjs names only what differs — its modules under mutation, the suites that drive
// them, extra module mappings. Never part of `npm test` (tens of minutes on two cores).
//
// Environment, for narrow runs on a busy machine:
//   MUTATE_TESTS=a,b     run only test/a.test.ts and test/b.test.ts
//   MUTATE_REPORT=name   keep that run's sandbox, incremental file and reports apart (reports/name/…),
//                        so narrow runs of different modules can run side by side
//   MUTATE_COVERAGE=off  every selected test runs against every mutant: slower, but right for code that
//                        runs after the test that drove it resolved (db-pool's give-back), which
//                        per-test coverage attributes to no test and so reports as survived
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const preset = require('./jest-preset');

/**
 * @param {object} spec
 * @param {string} spec.packageName       e.g. '@periscope/cache'
 * @param {string[]} spec.mutate          files (or file:lines) under mutation
 * @param {string[]} [spec.suites]        test files that drive them (default: every suite), relative to <rootDir>
 * @param {string[]} [spec.ignore]        testPathIgnorePatterns (e.g. wall-clock checks that instrumented code fails by design)
 * @param {Record<string, string>} [spec.entries] more module mappings to the sandbox's sources (subpath exports)
 * @returns {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export function strykerConfig({ packageName, mutate, suites, ignore, entries = {} }) {
  const only = process.env.MUTATE_TESTS?.split(',').map((t) => `<rootDir>/test/${t.trim()}.test.ts`);
  const sub = process.env.MUTATE_REPORT ? `/${process.env.MUTATE_REPORT}` : '';
  // The package's own entries first (the first match wins); a preset entry with the same pattern
  // must not overwrite them, so only the preset's other patterns follow.
  const moduleNameMapper = { ...entries, [`^${packageName}$`]: '<rootDir>/src/index.ts' };
  for (const [pattern, target] of Object.entries(preset.moduleNameMapper))
    if (!(pattern in moduleNameMapper)) moduleNameMapper[pattern] = target;
  const testMatch = only ?? suites?.map((s) => `<rootDir>/${s}`);
  return {
    packageManager: 'npm',
    testRunner: 'jest',
    checkers: ['typescript'],
    tsconfigFile: 'tsconfig.json',
    typescriptChecker: { prioritizePerformanceOverAccuracy: true },
    jest: {
      projectType: 'custom',
      configFile: 'jest.config.js',
      // The workspace preset maps the package to the checked-out source; inside Stryker's sandbox it
      // must resolve to the sandbox's (mutated) copy, so the package's own entries come first.
      config: {
        moduleNameMapper,
        ...(testMatch ? { testMatch } : {}),
        ...(ignore ? { testPathIgnorePatterns: ['/node_modules/', ...ignore] } : {}),
      },
      enableFindRelatedTests: false,
    },
    mutate,
    coverageAnalysis: process.env.MUTATE_COVERAGE === 'off' ? 'off' : 'perTest',
    // Static mutants run every test; with coverage off every mutant does anyway.
    ignoreStatic: process.env.MUTATE_COVERAGE !== 'off',
    concurrency: 2,
    timeoutMS: 10000,
    // The first run (all tests, with per-test coverage) is slow on a loaded two-core machine.
    dryRunTimeoutMinutes: 20,
    // Incremental: only changed code and tests are run again.
    incremental: true,
    incrementalFile: `reports${sub}/stryker-incremental.json`,
    reporters: ['clear-text', 'progress', 'html', 'json'],
    htmlReporter: { fileName: `reports${sub}/mutation/index.html` },
    jsonReporter: { fileName: `reports${sub}/mutation/mutation.json` },
    thresholds: { high: 90, low: 85, break: null },
    tempDirName: `.stryker-tmp${sub}`,
  };
}
