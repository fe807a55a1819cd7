import fc from 'fast-check';
import { ConfigError, ConfigReader, createConfigReader, nearest, parseBoolean, parseDuration } from '@periscope/core';

/** The error thrown by `fn` (fails the test when nothing is thrown). */
function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const reader = (env: Record<string, string | undefined> = {}, scope?: string) => createConfigReader({ env, scope });

describe('ConfigReader: precedence', () => {
  it('explicit option beats env beats default, for every reader method', () => {
    const env = {
      B: 'false',
      N: '7',
      I: '8',
      D: '2s',
      S: 'from-env',
      O: 'warn',
      L: 'a,b',
      U: 'http://env:1',
    };
    const r = reader(env);
    expect(r.boolean('b', true, { env: 'B', default: true })).toBe(true);
    expect(r.boolean('b', undefined, { env: 'B', default: true })).toBe(false);
    expect(r.boolean('b', undefined, { env: 'NONE', default: true })).toBe(true);
    expect(r.number('n', 1.5, { env: 'N', default: 3 })).toBe(1.5);
    expect(r.number('n', undefined, { env: 'N', default: 3 })).toBe(7);
    expect(r.number('n', undefined, { default: 3 })).toBe(3);
    expect(r.integer('i', 2, { env: 'I', default: 3 })).toBe(2);
    expect(r.integer('i', undefined, { env: 'I', default: 3 })).toBe(8);
    expect(r.duration('d', 100, { env: 'D', default: 5 })).toBe(100);
    expect(r.duration('d', undefined, { env: 'D', default: 5 })).toBe(2000);
    expect(r.duration('d', undefined, { env: 'NONE', default: 5 })).toBe(5);
    expect(r.string('s', 'opt', { env: 'S', default: 'def' })).toBe('opt');
    expect(r.string('s', undefined, { env: 'S', default: 'def' })).toBe('from-env');
    expect(r.string('s', undefined, { default: undefined })).toBeUndefined();
    const levels = ['debug', 'info', 'warn'] as const;
    expect(r.oneOf('o', 'info', levels, { env: 'O', default: 'debug' })).toBe('info');
    expect(r.oneOf('o', undefined, levels, { env: 'O', default: 'debug' })).toBe('warn');
    expect(r.oneOf('o', undefined, levels, { env: 'NONE', default: 'debug' })).toBe('debug');
    expect(r.list('l', ['x'], { env: 'L', default: [] })).toEqual(['x']);
    expect(r.list('l', 'y', { env: 'L', default: [] })).toEqual(['y']);
    expect(r.list('l', undefined, { env: 'L', default: [] })).toEqual(['a', 'b']);
    expect(r.list('l', undefined, { env: 'NONE', default: ['z'] })).toEqual(['z']);
    expect(r.url('u', 'http://opt:1', { env: 'U', default: undefined })).toBe('http://opt:1');
    expect(r.url('u', new URL('http://obj:2/'), { env: 'U', default: undefined })).toBe('http://obj:2/');
    expect(r.url('u', undefined, { env: 'U', default: undefined })).toBe('http://env:1');
    expect(r.url('u', undefined, { env: 'NONE', default: 'http://def' })).toBe('http://def');
  });

  it('treats an empty or blank variable as unset', () => {
    const r = reader({ B: '', N: '   ', S: '', L: ' ' });
    expect(r.boolean('b', undefined, { env: 'B', default: true })).toBe(true);
    expect(r.number('n', undefined, { env: 'N', default: 4 })).toBe(4);
    expect(r.string('s', undefined, { env: 'S', default: 'd' })).toBe('d');
    expect(r.list('l', undefined, { env: 'L', default: ['d'] })).toEqual(['d']);
    expect(r.raw('B')).toBeUndefined();
    expect(r.raw(undefined)).toBeUndefined();
  });

  it('reads process.env when no env is injected', () => {
    process.env.PERISCOPE_CORE_TEST_FLAG = 'on';
    try {
      expect(new ConfigReader().boolean('flag', undefined, { env: 'PERISCOPE_CORE_TEST_FLAG', default: false })).toBe(
        true,
      );
    } finally {
      delete process.env.PERISCOPE_CORE_TEST_FLAG;
    }
  });
});

describe('ConfigReader: booleans', () => {
  it('accepts exactly one syntax: true/false, 1/0, yes/no, on/off, any case, padded', () => {
    for (const t of ['true', '1', 'yes', 'on', 'TRUE', ' Yes ', 'On']) expect(parseBoolean(t)).toBe(true);
    for (const f of ['false', '0', 'no', 'off', 'FALSE', ' No', 'OFF ']) expect(parseBoolean(f)).toBe(false);
    for (const bad of ['', 'y', 'n', 't', 'enabled', '2', 'truee', 'null']) expect(parseBoolean(bad)).toBeUndefined();
  });

  it('names the variable and the syntax when the value is bad', () => {
    const err = thrown(() =>
      reader({ PERISCOPE_X: 'maybe' }).boolean('x', undefined, { env: 'PERISCOPE_X', default: false }),
    );
    expect(err.message).toBe('invalid PERISCOPE_X: expected a boolean (true/false, 1/0, yes/no, on/off), got "maybe"');
    expect(err.code).toBe('ERR_CONFIG');
    const opt = thrown(() => reader({}, 'cache').boolean('l1', 'yes' as unknown as boolean, { default: false }));
    expect(opt.option).toBe('cache.l1');
  });
});

describe('ConfigReader: numbers and bounds', () => {
  it('enforces min, max and integers, naming the range', () => {
    const r = reader({ N: '100', F: '1.5', X: '12abc', H: '0x10', INF: 'Infinity', E: '1e3' }, 'pool');
    const spec = { min: 1, max: 50, default: 10 };
    expect(thrown(() => r.integer('size', 0, spec)).message).toBe(
      'invalid pool.size: expected an integer in [1, 50], got 0',
    );
    expect(thrown(() => r.integer('size', undefined, { ...spec, env: 'N' })).option).toBe('N');
    expect(thrown(() => r.integer('size', undefined, { ...spec, env: 'F' })).accepted).toBe('an integer in [1, 50]');
    expect(r.number('ratio', undefined, { env: 'F', default: 0, min: 0 })).toBe(1.5);
    expect(r.number('ratio', undefined, { env: 'E', default: 0 })).toBe(1000);
    expect(thrown(() => r.number('n', undefined, { env: 'X', default: 0 })).got).toBe('"12abc"');
    expect(thrown(() => r.number('n', undefined, { env: 'H', default: 0 })).got).toBe('"0x10"');
    expect(thrown(() => r.number('n', undefined, { env: 'INF', default: 0 })).got).toBe('"Infinity"');
    expect(thrown(() => r.number('n', Number.NaN, { default: 0 })).got).toBe('NaN');
    expect(thrown(() => r.number('n', '5' as unknown as number, { default: 0 })).accepted).toBe('a number');
    expect(thrown(() => r.number('n', 3, { default: 0, min: 5 })).accepted).toBe('a number >= 5');
    expect(thrown(() => r.number('n', 9, { default: 0, max: 5 })).accepted).toBe('a number <= 5');
    expect(r.integer('size', 1, spec)).toBe(1);
    expect(r.integer('size', 50, spec)).toBe(50);
  });
});

describe('ConfigReader: durations', () => {
  it('reads 250ms, 2s, 1m, 1h, 1.5s and plain milliseconds', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('500')).toBe(500);
    expect(parseDuration(' 2S ')).toBe(2000);
    for (const bad of ['', 's', '-1s', '2 s', '1d', '1e3', '2sec', '1.s', 'ms'])
      expect(parseDuration(bad)).toBeUndefined();
  });

  it('checks the range in milliseconds and explains the syntax', () => {
    const r = reader({ T: '2m', BAD: '5 minutes' });
    expect(thrown(() => r.duration('timeoutMs', undefined, { env: 'T', default: 1000, max: 60_000 })).message).toBe(
      'invalid T: expected a number <= 60000, got 120000',
    );
    expect(thrown(() => r.duration('timeoutMs', undefined, { env: 'BAD', default: 1 })).accepted).toBe(
      'a duration (e.g. 500, 250ms, 2s, 1m, 1h)',
    );
    expect(thrown(() => r.duration('timeoutMs', -1, { default: 1, min: 0 })).option).toBe('timeoutMs');
  });
});

describe('ConfigReader: enums, lists, strings', () => {
  const formats = ['json', 'pretty', 'ecs'] as const;

  it('accepts enum values case-insensitively from the environment and suggests the nearest', () => {
    const r = reader({ F: ' PRETTY ', G: 'jsn', H: 'zzzzzz' });
    expect(r.oneOf('format', undefined, formats, { env: 'F', default: 'json' })).toBe('pretty');
    expect(thrown(() => r.oneOf('format', undefined, formats, { env: 'G', default: 'json' })).message).toBe(
      'invalid G: expected one of json, pretty, ecs, got "jsn"; did you mean json?',
    );
    expect(thrown(() => r.oneOf('format', undefined, formats, { env: 'H', default: 'json' })).message).not.toContain(
      'did you mean',
    );
    expect(thrown(() => r.oneOf('format', 'prety' as 'json', formats, { default: 'json' })).message).toContain(
      'did you mean pretty?',
    );
    expect(
      createConfigReader({ env: { L: 'info' } }).oneOf('l', undefined, ['INFO', 'WARN'], { env: 'L', default: 'WARN' }),
    ).toBe('INFO');
  });

  it('splits lists on commas, trims, drops empties and checks each item', () => {
    const r = reader({ L: ' json , ecs,, ', BAD: 'json,ecss' });
    expect(r.list('formats', undefined, { env: 'L', default: [], accepted: formats })).toEqual(['json', 'ecs']);
    const err = thrown(() => r.list('formats', undefined, { env: 'BAD', default: [], accepted: formats }));
    expect(err.message).toBe('invalid BAD: expected a list of json, pretty, ecs, got "ecss"; did you mean ecs?');
    expect(thrown(() => r.list('formats', ['json', 7 as unknown as string], { default: [] })).option).toBe('formats');
    expect(thrown(() => r.list('formats', [''], { default: [] })).accepted).toBe('a list of non-empty strings');
  });

  it('rejects empty or non-string explicit strings', () => {
    const r = reader();
    expect(thrown(() => r.string('name', '', { default: 'x' })).accepted).toBe('a non-empty string');
    expect(thrown(() => r.string('name', 5 as unknown as string, { default: 'x' })).got).toBe('5');
  });
});

describe('ConfigReader: URLs', () => {
  it('checks that the URL parses and has an accepted protocol', () => {
    const r = reader({ OTLP: 'grpc://collector:4317', BAD: 'not a url' });
    const spec = { env: 'OTLP', default: undefined, protocols: ['http:', 'https:'] };
    expect(thrown(() => r.url('endpoint', undefined, spec)).message).toBe(
      'invalid OTLP: expected a URL (http: or https:), got "grpc://collector:4317"',
    );
    expect(thrown(() => r.url('endpoint', undefined, { env: 'BAD', default: undefined })).accepted).toBe(
      'an absolute URL',
    );
    expect(r.url('endpoint', 'https://collector:4318/v1/traces', spec)).toBe('https://collector:4318/v1/traces');
  });

  it('never puts a password from a rejected URL in the message', () => {
    const secrets = ['hunter2-Secret', 'p@ss/w0rd', 'x:y?z#w'];
    for (const pw of secrets) {
      for (const url of [
        `ftp://admin:${pw}@host:21/`,
        `http://admin:${pw}@host:99999/`,
        `admin:${pw}@host`,
        `postgres://admin:${pw}@host:5432/db`,
      ]) {
        const r = reader({ URL: url });
        const err = thrown(() => r.url('url', undefined, { env: 'URL', default: undefined, protocols: ['https:'] }));
        expect(err.message).not.toContain(pw);
        expect(err.got).not.toContain(pw);
      }
    }
  });
});

describe('ConfigReader: unknown options, raw values, fail', () => {
  it('rejects unknown option keys naming the nearest known one', () => {
    const r = reader({}, 'metrics');
    const known = ['prefix', 'maxSeriesPerMetric', 'defaultLabels'];
    expect(() => r.rejectUnknown({ prefix: 'x' }, known)).not.toThrow();
    expect(() => r.rejectUnknown(undefined, known)).not.toThrow();
    const err = thrown(() => r.rejectUnknown({ prefix: 'x', maxSeriesPerMetrik: 5 }, known, 'createMetrics'));
    expect(err.option).toBe('metrics.maxSeriesPerMetrik');
    expect(err.message).toContain('did you mean maxSeriesPerMetric?');
    expect(err.message).toContain('createMetrics');
    expect(thrown(() => r.rejectUnknown('nope' as unknown as object, known)).accepted).toBe('an options object');
  });

  it('bounds the length of environment values', () => {
    const r = reader({ BIG: 'x'.repeat(9000) });
    const err = thrown(() => r.string('s', undefined, { env: 'BIG', default: '' }));
    expect(err.message).toBe('invalid BIG: expected at most 8192 characters, got "9000 characters"');
    expect(reader({ OK: 'x'.repeat(8192) }).raw('OK')).toHaveLength(8192);
  });

  it("throws the package's own error type through the factory", () => {
    class CacheConfigError extends ConfigError<'ERR_CACHE_CONFIG'> {
      constructor(option: string, accepted: string, got: unknown, suggestion?: string) {
        super(option, accepted, got, { code: 'ERR_CACHE_CONFIG', suggestion });
      }
    }
    const r = createConfigReader({
      env: { X: 'bad' },
      scope: 'cache',
      error: (o, a, g, s) => new CacheConfigError(o, a, g, s),
    });
    const err = thrown(() => r.boolean('x', undefined, { env: 'X', default: true }));
    expect(err).toBeInstanceOf(CacheConfigError);
    expect(err.code).toBe('ERR_CACHE_CONFIG');
    const failed = thrown(() => r.fail('l2.url', 'a redis URL', 'nope', 'l2.uri'));
    expect(failed.message).toBe('invalid cache.l2.url: expected a redis URL, got "nope"; did you mean l2.uri?');
  });

  it('nearest suggests only likely typos', () => {
    expect(nearest('timeoutMS', ['timeoutMs', 'retries'])).toBe('timeoutMs');
    expect(nearest('colour', ['color', 'size'])).toBe('color');
    expect(nearest('completelydifferent', ['a', 'b'])).toBeUndefined();
    expect(nearest('x', [])).toBeUndefined();
  });
});

describe('ConfigReader: properties', () => {
  const booleanWords = ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'];

  it('every spelling of the boolean syntax, in any case and padding, reads the same from env', () => {
    fc.assert(
      fc.property(fc.constantFrom(...booleanWords), fc.boolean(), fc.nat(3), fc.nat(3), (word, upper, l, r) => {
        const text = ' '.repeat(l) + (upper ? word.toUpperCase() : word) + ' '.repeat(r);
        const expected = ['true', '1', 'yes', 'on'].includes(word);
        expect(reader({ F: text }).boolean('f', undefined, { env: 'F', default: !expected })).toBe(expected);
      }),
    );
  });

  it('any other string is rejected as a boolean with a ConfigError (never thrown as something else)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        fc.pre(text.trim() !== '' && !booleanWords.includes(text.trim().toLowerCase()));
        expect(thrown(() => reader({ F: text }).boolean('f', undefined, { env: 'F', default: true })).option).toBe('F');
      }),
    );
  });

  it('durations: n<unit> reads as n times the unit; integers in range round-trip; out of range fails', () => {
    const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    fc.assert(
      fc.property(fc.nat(100_000), fc.constantFrom('ms', 's', 'm', 'h', ''), (n, unit) => {
        const ms = n * (unit === '' ? 1 : units[unit]);
        expect(parseDuration(`${n}${unit}`)).toBe(ms);
        const r = reader({ D: `${n}${unit}` });
        if (ms <= 3_600_000) expect(r.duration('d', undefined, { env: 'D', default: 0, max: 3_600_000 })).toBe(ms);
        else expect(() => r.duration('d', undefined, { env: 'D', default: 0, max: 3_600_000 })).toThrow(ConfigError);
      }),
    );
  });

  it('numbers: any finite double written with String() reads back exactly; bounds hold', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), (x, lo) => {
        const r = reader({ N: String(x) });
        if (x >= lo) expect(r.number('n', undefined, { env: 'N', default: 0, min: lo })).toBe(x === 0 ? 0 : x);
        else expect(() => r.number('n', undefined, { env: 'N', default: 0, min: lo })).toThrow(ConfigError);
      }),
    );
  });

  it('any env value: every reader method returns or throws a ConfigError, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        const r = reader({ V: text });
        const calls = [
          () => r.boolean('v', undefined, { env: 'V', default: false }),
          () => r.integer('v', undefined, { env: 'V', default: 0, min: 0, max: 10 }),
          () => r.duration('v', undefined, { env: 'V', default: 0 }),
          () => r.oneOf('v', undefined, ['a', 'b'], { env: 'V', default: 'a' }),
          () => r.list('v', undefined, { env: 'V', default: [], accepted: ['a', 'b'] }),
          () => r.url('v', undefined, { env: 'V', default: undefined, protocols: ['http:'] }),
        ];
        for (const call of calls) {
          try {
            call();
          } catch (e) {
            expect(e).toBeInstanceOf(ConfigError);
          }
        }
      }),
    );
  });

  it('rejectUnknown accepts exactly the known keys', () => {
    const known = ['alpha', 'beta', 'gamma'];
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.integer()), (opts) => {
        const unknown = Object.keys(opts).some((k) => !known.includes(k));
        if (unknown) expect(() => reader().rejectUnknown(opts, known)).toThrow(ConfigError);
        else expect(() => reader().rejectUnknown(opts, known)).not.toThrow();
      }),
    );
  });
});

describe('keyValues (the OTEL_RESOURCE_ATTRIBUTES / OTEL_EXPORTER_OTLP_HEADERS syntax)', () => {
  test('pairs are split, trimmed and percent-decoded; a stray % is kept as written', () => {
    const read = new ConfigReader({ env: { X: ' a=1 , b=x%20y, c=50% ' } });
    expect(read.keyValues('x', { env: 'X' })).toEqual({ a: '1', b: 'x y', c: '50%' });
    expect(new ConfigReader({ env: {} }).keyValues('x', { env: 'X' })).toEqual({});
  });

  test('a pair without a key fails naming the variable; secret values are never quoted', () => {
    expect(() => new ConfigReader({ env: { X: 'a=1,=2' } }).keyValues('x', { env: 'X' })).toThrow(
      /invalid X: expected comma-separated key=value pairs, got "=2"/,
    );
    const secret = () =>
      new ConfigReader({ env: { H: 'authorization=Bearer t0ken,oops' } }).keyValues('h', { env: 'H', secret: true });
    expect(secret).toThrow(/a malformed entry/);
    expect(secret).not.toThrow(/oops|t0ken/);
  });

  test('lowerCaseKeys folds header names', () => {
    const read = new ConfigReader({ env: { H: 'Authorization=abc' } });
    expect(read.keyValues('h', { env: 'H', lowerCaseKeys: true })).toEqual({ authorization: 'abc' });
  });
});
