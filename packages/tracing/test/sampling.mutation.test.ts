// Issue 21 (mutation testing): which spans the samplers keep, decided without the wall clock where
// the rule is not about time: every sampler name, drop rules of each shape, the token bucket's
// edges, and the tail sampler's deterministic ratio draw on the trace id's low 32 bits.
import { context, ROOT_CONTEXT, trace as otelTrace, TraceFlags } from '@opentelemetry/api';
import { trace, TokenBucket, type Tracing } from '../src';
import { startMemory } from './helpers';

const withParent = (traceId: string, sampled: boolean) =>
  otelTrace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId: 'b'.repeat(16),
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });

describe('head sampling', () => {
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.close();
    tracing = undefined;
  });
  const recorded = () => tracing!.store!.recentTraces({ limit: 1000 }).map((t) => t.rootName);

  it.each([
    ['always_on', ['root', 'under-sampled', 'under-unsampled']],
    ['always_off', []],
    ['parentbased_always_on', ['root', 'under-sampled']],
    ['parentbased_always_off', ['under-sampled']],
  ] as const)('sampler %s', (sampler, kept) => {
    tracing = startMemory({ sampler });
    trace('root', () => undefined);
    context.with(withParent('c'.repeat(32), true), () => trace('under-sampled', () => undefined));
    context.with(withParent('d'.repeat(32), false), () => trace('under-unsampled', () => undefined));
    expect(recorded().sort()).toEqual([...kept].sort());
  });

  it('drop rules: by name (string or RegExp), by every listed attribute, never by an empty rule', () => {
    tracing = startMemory({
      dropRules: [
        {},
        { name: 'exact' },
        { name: /^re\./ },
        { name: 'both', attributes: { 'http.route': '/x' } },
        { attributes: { 'http.method': 'GET', 'url.path': '/two' } },
        { attributes: { 'http.status_code': 503 } },
        { attributes: { 'user.agent': /bot/ } },
        { attributes: { 'retry.flag': true } },
      ],
    });
    const spans: [string, Record<string, string | number | boolean>][] = [
      ['exact', {}],
      ['exact-not', {}],
      ['re.get', {}],
      ['not.re.get', {}],
      ['both', { 'http.route': '/x' }],
      ['both', { 'http.route': '/y' }],
      ['other', { 'http.route': '/x' }],
      ['two', { 'http.method': 'GET', 'url.path': '/two' }],
      ['two-half', { 'http.method': 'POST', 'url.path': '/two' }],
      ['two-other-half', { 'http.method': 'GET', 'url.path': '/other' }],
      ['code', { 'http.status_code': 503 }],
      ['code-string', { 'http.status_code': '503' }],
      ['bot', { 'user.agent': 'a bot/1.0' }],
      ['bot-number', { 'user.agent': 7 }],
      ['flag', { 'retry.flag': true }],
      ['flag-false', { 'retry.flag': false }],
    ];
    for (const [name, attributes] of spans) trace(name, () => undefined, { attributes });
    expect(recorded().sort()).toEqual(
      [
        'exact-not',
        'not.re.get',
        'both',
        'other',
        'two-half',
        'two-other-half',
        'code-string',
        'bot-number',
        'flag-false',
      ].sort(),
    );
  });

  it('exact string attribute rules on several keys and values all drop', () => {
    tracing = startMemory({
      dropRules: [
        { attributes: { 'url.path': '/a' } },
        { attributes: { 'url.path': '/b' } },
        { attributes: { 'http.route': '/c' } },
      ],
    });
    for (const [name, attrs] of [
      ['a', { 'url.path': '/a' }],
      ['b', { 'url.path': '/b' }],
      ['c', { 'http.route': '/c' }],
      ['c-as-path', { 'url.path': '/c' }],
      ['a-as-route', { 'http.route': '/a' }],
      ['none', {}],
    ] as const)
      trace(name, () => undefined, { attributes: attrs });
    expect(recorded().sort()).toEqual(['a-as-route', 'c-as-path', 'none']);
  });

  it('maxSpansPerSecond: spent only on spans that would be sampled, never on unsampled or dropped ones', () => {
    tracing = startMemory({ maxSpansPerSecond: 2, dropRules: [{ name: 'probe' }] });
    for (let i = 0; i < 20; i++) {
      context.with(withParent('e'.repeat(32), false), () => trace('under-unsampled', () => undefined));
      trace('probe', () => undefined);
    }
    // A burst of two (capacity one second's worth); refilling one more takes 500 ms.
    for (let i = 0; i < 4; i++) trace(`root-${i}`, () => undefined);
    const kept = recorded();
    expect(kept).toEqual(expect.arrayContaining(['root-0', 'root-1']));
    // root-2 and root-3 only if the loop took 500 ms or more (a loaded machine)
    expect(kept.every((n) => n.startsWith('root-'))).toBe(true);
  });

  it('spans started through the OpenTelemetry tracer obey the drop rules and the rate limit too', () => {
    tracing = startMemory({ maxSpansPerSecond: 2, dropRules: [{ name: 'probe' }] });
    const probe = tracing.tracer.startSpan('probe');
    expect(probe.isRecording()).toBe(false);
    probe.end();
    // 20 roots in a tight loop: a burst of two, then one more per 500 ms.
    for (let i = 0; i < 20; i++) tracing.tracer.startSpan(`span-${i}`).end();
    const kept = recorded();
    expect(kept).toEqual(expect.arrayContaining(['span-0', 'span-1']));
    expect(kept.length).toBeLessThan(20);
    expect(kept).not.toContain('probe');
  });
});

describe('TokenBucket edges', () => {
  it('a bucket below one per second still holds one token, refilled over 1/rate seconds', () => {
    let now = 0;
    const b = new TokenBucket(0.5, () => now);
    expect([b.take(), b.take()]).toEqual([true, false]);
    now = 1999;
    expect(b.take()).toBe(false);
    now = 2000;
    expect([b.take(), b.take()]).toEqual([true, false]);
  });

  it('exactly one refilled token is enough', () => {
    let now = 0;
    const b = new TokenBucket(10, () => now);
    for (let i = 0; i < 10; i++) b.take();
    now = 100;
    expect([b.take(), b.take()]).toEqual([true, false]);
    now = 150; // half a token
    expect(b.take()).toBe(false);
    now = 200; // the half carried over plus another half
    expect(b.take()).toBe(true);
  });
});

describe('tail sampling ratio', () => {
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.close();
    tracing = undefined;
  });

  it('keeps a fast trace exactly when the low 32 bits of its trace id fall under ratio × 2³²', () => {
    tracing = startMemory({ tailSampling: { slowerThanMs: 60_000, graceMs: 60_000, ratio: 0.5 } });
    const prefix = '0123456789abcdef01234567';
    const otherPrefix = 'fedcba9876543210fedcba98';
    const cases: [string, boolean][] = [
      ['00000000', true],
      ['7fffffff', true],
      ['80000000', false],
      ['ffffffff', false],
    ];
    for (const [low] of cases) {
      // alone, and with a child (the buffered path)
      context.with(withParent(`${prefix}${low}`, true), () => trace(`alone-${low}`, () => undefined));
      context.with(withParent(`${otherPrefix}${low}`, true), () =>
        trace(`parent-${low}`, () => trace('child', () => undefined)),
      );
    }
    const kept = tracing.store!.recentTraces({ limit: 100 }).map((t) => t.rootName);
    expect(kept.sort()).toEqual(
      cases
        .filter(([, keep]) => keep)
        .flatMap(([low]) => [`alone-${low}`, `parent-${low}`])
        .sort(),
    );
    expect(tracing.tailBuffer).toEqual({ traces: 0, spans: 0 });
  });

  it('ratio 1 keeps every fast trace, ratio 0 none', async () => {
    for (const [ratio, expected] of [
      [1, 2],
      [0, 0],
    ] as const) {
      tracing = startMemory({ tailSampling: { slowerThanMs: 60_000, graceMs: 60_000, ratio } });
      context.with(withParent(`${'1'.repeat(24)}ffffffff`, true), () => trace('max-id', () => undefined));
      context.with(withParent(`${'1'.repeat(24)}00000000`, true), () => trace('min-id', () => undefined));
      expect(tracing.store!.size).toBe(expected);
      await tracing.close();
      tracing = undefined;
    }
  });
});
