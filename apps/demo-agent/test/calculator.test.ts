import { evaluate, CalculatorError } from '../src/tools/calculator';

describe('calculator', () => {
  test.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', -4],
    ['10 % 4', 2],
    ['7 / 2', 3.5],
    ['--3', 3],
    ['1.5e3 + .5', 1500.5],
    ['sqrt(16) + max(1, 5, 3)', 9],
    ['round(pi * 100)', 314],
    ['  ( ( 4 ) ) ', 4],
  ])('%s = %d', (expr, expected) => {
    expect(evaluate(expr)).toBeCloseTo(expected, 10);
  });

  test.each([
    ['', 'empty expression'],
    ['1 +', 'unexpected end of expression'],
    ['1 / 0', 'division by zero'],
    ['(1 + 2', "expected ')'"],
    ['2 $ 3', "unexpected '$'"],
    ['process.exit(1)', "unknown name 'process'"],
    ['sqrt(1, 2)', 'sqrt takes 1 argument(s), got 2'],
    ['10 ^ 400', 'result is not a finite number'],
  ])('rejects %j with a typed error naming the problem', (expr, message) => {
    let caught: unknown;
    try {
      evaluate(expr);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CalculatorError);
    expect((caught as CalculatorError).message).toContain(message);
    expect((caught as CalculatorError).code).toBe('ERR_DEMO_CALCULATOR');
  });

  test('bounds nesting depth and length instead of overflowing the stack', () => {
    expect(() => evaluate('('.repeat(200) + '1' + ')'.repeat(200))).toThrow(/nested too deeply/);
    expect(() => evaluate('-'.repeat(200) + '1')).toThrow(/nested too deeply/);
    expect(() => evaluate('1+'.repeat(300) + '1')).toThrow(/longer than 500/);
  });
});
