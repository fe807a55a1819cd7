// Mutation testing (issue 21): `npx nx run logging:mutate` (= `npm run mutate` here). Not part of `npm test`.
// The shared settings, MUTATE_TESTS and MUTATE_REPORT: tools/testing/stryker.mjs.
import { strykerConfig } from '@periscope-tools/testing/stryker.mjs';

export default strykerConfig({
  packageName: '@periscope/logging',
  mutate: ['src/escape.ts', 'src/layouts.ts'],
  // The suites that render records; shipping/aggregator/audit only pass through the layouts.
  suites: ['test/{logger,hardening,config}.test.ts', 'test/*.mutation.test.ts'],
});
