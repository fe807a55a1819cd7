// Mutation testing (issue 21): `npx nx run cache:mutate` (= `npm run mutate` here). Not part of `npm test`.
// The shared settings, MUTATE_TESTS and MUTATE_REPORT: tools/testing/stryker.mjs.
import { strykerConfig } from '@periscope-tools/testing/stryker.mjs';

export default strykerConfig({
  packageName: '@periscope/cache',
  mutate: ['src/breaker.ts', 'src/bus.ts', 'src/serializer.ts', 'src/disk-tier.ts'],
  // The suites that drive the breaker, the invalidation bus, the serializer and the disk tier (real
  // Redis); the rest (cluster, sentinel, spans, no-duplicates) only pass through them and would
  // multiply the time per mutant on a two-core machine.
  suites: ['test/{breaker,bus,serializer,decoder,disk,disk-security,tiers,faults}.test.ts', 'test/*.mutation.test.ts'],
});
