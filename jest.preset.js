// Shared Jest settings for every project. Sources are run through ts-jest in
// transpile-only mode (type-checking is `npm run typecheck`, one tsc program for all),
// and @periscope/* imports resolve to source so tests never need a build first.
const path = require('node:path');

const root = __dirname;

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(root, 'tsconfig.base.json'), diagnostics: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // A Stryker sandbox (packages/<x>/.stryker-tmp) holds a copy of the package: never a second module.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/.stryker-tmp/'],
  testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  moduleNameMapper: {
    '^@periscope/health/(express|fastify|nestjs)$': path.join(root, 'packages/health/src/frameworks/$1.ts'),
    '^@periscope/db-pool/embedded$': path.join(root, 'packages/db-pool/src/embedded.ts'),
    '^@periscope/(core|metrics|tracing|logging|profiling|gpu-pool|db-pool|cache|alerting|health)$': path.join(
      root,
      'packages/$1/src/index.ts',
    ),
    '^@periscope-tools/(testing|bench)$': path.join(root, 'tools/$1/src/index.ts'),
  },
  globalSetup: path.join(root, 'tools/testing/jest-global-setup.js'),
  globalTeardown: path.join(root, 'tools/testing/jest-global-teardown.js'),
  setupFilesAfterEnv: [path.join(root, 'tools/testing/jest-setup.js')],
};
