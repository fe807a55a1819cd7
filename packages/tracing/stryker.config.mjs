// Mutation testing (issue 21): `npx nx run tracing:mutate` (= `npm run mutate` here). Not part of `npm test`.
// The shared settings, MUTATE_TESTS and MUTATE_REPORT: tools/testing/stryker.mjs.
import { strykerConfig } from '@periscope-tools/testing/stryker.mjs';

export default strykerConfig({
  packageName: '@periscope/tracing',
  mutate: ['src/sampling.ts', 'src/propagation.ts'],
  // The suites that drive the samplers and the propagators; exporters, auto-instrumentation and the
  // W3C conformance run (child processes) only pass through them.
  suites: ['test/{sampling,propagation,w3c-unit,trace-api}.test.ts', 'test/*.mutation.test.ts'],
});
