// Mutation testing (issue 21): `npx nx run core:mutate` (= `npm run mutate` here). Not part of `npm test`.
// The shared settings, MUTATE_TESTS and MUTATE_REPORT: tools/testing/stryker.mjs.
import { strykerConfig } from '@periscope-tools/testing/stryker.mjs';

export default strykerConfig({
  packageName: '@periscope/core',
  mutate: ['src/redact/*.ts', 'src/url.ts', 'src/config.ts'],
  // The linear-time check measures wall time; instrumented code is slower by design, so it stays out.
  ignore: ['/test/redact-linear\\.test\\.ts$'],
});
