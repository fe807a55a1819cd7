// Issue 21 (mutation testing): what /readyz?verbose and /health say, line by line and field by
// field, for each combination of state, check status and criticality.
import type { CheckResult } from '@periscope/health';
import { checkLine, excludedNames, exclusionLines, healthDocument, isReady, overallStatus } from '../src/probes';

const result = (over: Partial<CheckResult> = {}): CheckResult => ({
  name: 'db',
  critical: true,
  status: 'pass',
  observedValue: 3,
  time: '2026-01-01T00:00:00.000Z',
  durationMs: 3,
  componentType: 'datastore',
  key: 'db:responseTime',
  ...over,
});

describe('checkLine', () => {
  it.each([
    [{ status: 'pass', output: 'ignored' }, '[+]db ok'],
    [{ status: 'warn' }, '[+]db warn'],
    [{ status: 'warn', output: 'slow:\n 900 ms' }, '[+]db warn: slow: 900 ms'],
    [{ status: 'fail' }, '[-]db failed'],
    [{ status: 'fail', output: 'refused' }, '[-]db failed: refused'],
    [{ status: 'fail', critical: false, output: 'refused' }, '[-]db failed (non-critical): refused'],
    [{ status: 'fail', critical: false, output: '' }, '[-]db failed (non-critical)'],
  ] as [Partial<CheckResult>, string][])('%j → %s', (over, line) => {
    expect(checkLine(result(over))).toBe(line);
  });
});

describe('?exclude=', () => {
  it('takes repeated and comma-separated names, skips empty ones', () => {
    const ex = excludedNames(new URLSearchParams('exclude=db,,cache&exclude=queue&exclude='));
    expect([...ex.names]).toEqual(['db', 'cache', 'queue']);
    expect(ex.invalid).toEqual([]);
    expect(excludedNames(undefined)).toEqual({ names: new Set(), invalid: [] });
  });

  it('quotes what cannot be a check name, cut to 64 characters, at most 8 of them', () => {
    const long = `bad name ${'x'.repeat(100)}`;
    const ex = excludedNames(new URLSearchParams({ exclude: `ok.name,${long},-x` }));
    expect([...ex.names]).toEqual(['ok.name']);
    expect(ex.invalid).toEqual([JSON.stringify(`${long.slice(0, 64)}...`), '"-x"']);
    const exactly64 = 'y '.repeat(32);
    expect(excludedNames(new URLSearchParams({ exclude: exactly64 })).invalid).toEqual([JSON.stringify(exactly64)]);
    const many = excludedNames(new URLSearchParams({ exclude: Array.from({ length: 20 }, (_, i) => `!${i}`).join() }));
    expect(many.invalid).toHaveLength(8);
    expect(many.invalid[7]).toBe('"!7"');
  });

  it('reads at most 64 names; the rest are ignored', () => {
    const names = Array.from({ length: 70 }, (_, i) => `c${i}`);
    const ex = excludedNames(new URLSearchParams({ exclude: names.join() }));
    expect([...ex.names]).toEqual(names.slice(0, 64));
  });

  it('one line per excluded name: known ones pass, unknown and invalid ones warn', () => {
    const ex = excludedNames(new URLSearchParams('exclude=db,nope,%0A'));
    expect(exclusionLines(ex, (n) => n === 'db')).toEqual([
      '[+]db excluded: ok',
      'warn: some health checks cannot be excluded: no matches for "nope"',
      'warn: ignored exclude="\\n": not a valid check name',
    ]);
  });
});

describe('readiness and overall status', () => {
  it.each([
    ['ready', [], true, 'pass'],
    ['ready', [result()], true, 'pass'],
    ['ready', [result({ status: 'warn' })], true, 'warn'],
    ['ready', [result({ status: 'fail', critical: false })], true, 'warn'],
    ['ready', [result(), result({ status: 'fail' })], false, 'fail'],
    ['starting', [result()], false, 'fail'],
    ['draining', [], false, 'fail'],
    ['stopped', [], false, 'fail'],
  ] as const)('%s with %j: ready %s, status %s', (state, results, ready, status) => {
    expect(isReady(state, results)).toBe(ready);
    expect(overallStatus(state, results)).toBe(status);
  });
});

describe('healthDocument', () => {
  const base = { version: '1.2.3', serviceId: 'svc', uptimeSeconds: 41.6 };

  it('has the uptime, every check under its key with only the fields it has, and no output when all pass', () => {
    const doc = healthDocument({
      ...base,
      state: 'ready',
      results: [
        result(),
        result({ name: 'db2', componentId: 'replica', observedUnit: 'ms', output: 'fine' }),
        result({ name: 'q', key: 'q:depth', componentType: 'component', observedValue: 0 }),
      ],
    });
    expect(doc).toEqual({
      status: 'pass',
      version: '1.2.3',
      serviceId: 'svc',
      description: 'svc health',
      checks: {
        uptime: [
          { componentType: 'system', observedValue: 42, observedUnit: 's', status: 'pass', time: expect.any(String) },
        ],
        'db:responseTime': [
          { componentType: 'datastore', observedValue: 3, status: 'pass', time: '2026-01-01T00:00:00.000Z' },
          {
            componentType: 'datastore',
            componentId: 'replica',
            observedValue: 3,
            observedUnit: 'ms',
            output: 'fine',
            status: 'pass',
            time: '2026-01-01T00:00:00.000Z',
          },
        ],
        'q:depth': [{ componentType: 'component', observedValue: 0, status: 'pass', time: '2026-01-01T00:00:00.000Z' }],
      },
    });
    expect(Date.parse(doc.checks.uptime[0].time)).not.toBeNaN();
    expect(Object.keys(doc.checks['db:responseTime'][0])).not.toContain('output');
  });

  it('names the failing critical checks, or the state when not ready', () => {
    const results = [
      result({ name: 'db', status: 'fail' }),
      result({ name: 'cache', status: 'fail', critical: false }),
      result({ name: 'queue', status: 'fail' }),
      result({ name: 'ok' }),
    ];
    expect(healthDocument({ ...base, state: 'ready', results })).toMatchObject({
      status: 'fail',
      output: 'failing critical checks: db, queue',
    });
    expect(healthDocument({ ...base, state: 'draining', results: [] })).toMatchObject({
      status: 'fail',
      output: 'service is draining',
    });
    expect(healthDocument({ ...base, state: 'ready', results: [results[1]] })).not.toHaveProperty('output');
  });
});
