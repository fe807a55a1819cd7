// The zero-code entry's decisions that need no child process: OTEL_SDK_DISABLED, and a bad
// variable failing start with one TracingConfigError (the end-to-end runs are in auto-instrument.test.ts).
import { TracingConfigError } from '../src';
import { startFromEnvironment } from '../src/autostart';

describe('startFromEnvironment (the register entry)', () => {
  it('starts nothing and installs no hook with OTEL_SDK_DISABLED=true', () => {
    const before = process.listenerCount('SIGTERM');
    const hooks: string[] = [];
    const tracing = startFromEnvironment({
      env: { OTEL_SDK_DISABLED: 'true', PERISCOPE_TRACING_INSTRUMENTATIONS: 'auto' },
      registerEsmHook: (url) => hooks.push(url),
    });
    expect(tracing).toBeUndefined();
    expect(hooks).toEqual([]);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('fails with a TracingConfigError naming the variable, before registering anything', () => {
    const hooks: string[] = [];
    expect(() =>
      startFromEnvironment({
        env: { PERISCOPE_TRACING_INSTRUMENTATIONS: 'http', OTEL_TRACES_SAMPLER: 'sometimes' },
        registerEsmHook: (url) => hooks.push(url),
      }),
    ).toThrow(TracingConfigError);
    expect(() => startFromEnvironment({ env: { OTEL_SDK_DISABLED: 'maybe' } })).toThrow(/invalid OTEL_SDK_DISABLED/);
    expect(hooks).toEqual([]);
  });
});
