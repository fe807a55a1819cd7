// Mutation testing (issue 21): `npx nx run metrics:mutate` (= `npm run mutate` here). Not part of `npm test`.
// The shared settings, MUTATE_TESTS and MUTATE_REPORT: tools/testing/stryker.mjs.
import { strykerConfig } from '@periscope-tools/testing/stryker.mjs';

export default strykerConfig({
  packageName: '@periscope/metrics',
  mutate: ['src/labels.ts', 'src/exposition.ts'],
  // The suites that pin labels and exposition; the rest (pushgateway, host, history) only pass
  // through them and would multiply the time per mutant on a two-core machine.
  suites: [
    'test/{conventions,contract,exposition,exposition-cache,cardinality,metrics}.test.ts',
    'test/*.mutation.test.ts',
  ],
});
