// Mutation testing (issue 21): `npx nx run health:mutate` (= `npm run mutate` here). Not part of `npm test`.
// The shared settings, MUTATE_TESTS and MUTATE_REPORT: tools/testing/stryker.mjs.
import { strykerConfig } from '@periscope-tools/testing/stryker.mjs';

export default strykerConfig({
  packageName: '@periscope/health',
  mutate: ['src/lifecycle.ts', 'src/probes.ts'],
  entries: { '^@periscope/health/(express|fastify|nestjs)$': '<rootDir>/src/frameworks/$1.ts' },
  // The suites that drive the lifecycle and the probes; the page, the framework adapters and the
  // signal tests (child processes) only pass through them.
  suites: ['test/{lifecycle,server,checks,probe-lines,connections}.test.ts', 'test/*.mutation.test.ts'],
});
