// The calculator tool: a recursive-descent arithmetic parser (never eval). Grammar:
//   expr  := term (('+' | '-') term)*
//   term  := unary (('*' | '/' | '%') unary)*
//   unary := ('+' | '-') unary | power
//   power := primary ('^' unary)?            (right-associative: 2^3^2 = 2^9)
//   primary := number | constant | func '(' expr (',' expr)* ')' | '(' expr ')'

import { PeriscopeError } from '@periscope/core';

export class CalculatorError extends PeriscopeError<'ERR_DEMO_CALCULATOR'> {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super('ERR_DEMO_CALCULATOR', `${message} at position ${position}`);
  }
}

const MAX_LENGTH = 500;
const MAX_DEPTH = 64;

const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };
const FUNCTIONS: Record<string, { arity: [number, number]; fn: (...a: number[]) => number }> = {
  sqrt: { arity: [1, 1], fn: Math.sqrt },
  abs: { arity: [1, 1], fn: Math.abs },
  round: { arity: [1, 1], fn: Math.round },
  floor: { arity: [1, 1], fn: Math.floor },
  ceil: { arity: [1, 1], fn: Math.ceil },
  log: { arity: [1, 1], fn: Math.log },
  exp: { arity: [1, 1], fn: Math.exp },
  sin: { arity: [1, 1], fn: Math.sin },
  cos: { arity: [1, 1], fn: Math.cos },
  min: { arity: [1, 16], fn: Math.min },
  max: { arity: [1, 16], fn: Math.max },
};

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly src: string) {}

  parse(): number {
    const value = this.expr();
    this.skipSpace();
    if (this.pos < this.src.length) throw new CalculatorError(`unexpected '${this.src[this.pos]}'`, this.pos);
    if (!Number.isFinite(value)) throw new CalculatorError('result is not a finite number', 0);
    return value;
  }

  private skipSpace(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }

  private peek(): string {
    this.skipSpace();
    return this.src[this.pos] ?? '';
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw new CalculatorError('expression nested too deeply', this.pos);
  }

  private expr(): number {
    this.enter();
    let value = this.term();
    for (let op = this.peek(); op === '+' || op === '-'; op = this.peek()) {
      this.pos++;
      const rhs = this.term();
      value = op === '+' ? value + rhs : value - rhs;
    }
    this.depth--;
    return value;
  }

  private term(): number {
    let value = this.unary();
    for (let op = this.peek(); op === '*' || op === '/' || op === '%'; op = this.peek()) {
      const at = this.pos++;
      const rhs = this.unary();
      if ((op === '/' || op === '%') && rhs === 0) throw new CalculatorError('division by zero', at);
      value = op === '*' ? value * rhs : op === '/' ? value / rhs : value % rhs;
    }
    return value;
  }

  private unary(): number {
    const c = this.peek();
    if (c === '-' || c === '+') {
      this.pos++;
      this.enter();
      const v = this.unary();
      this.depth--;
      return c === '-' ? -v : v;
    }
    return this.power();
  }

  private power(): number {
    const base = this.primary();
    if (this.peek() === '^') {
      this.pos++;
      return base ** this.unary();
    }
    return base;
  }

  private primary(): number {
    const c = this.peek();
    const at = this.pos;
    if (c === '(') {
      this.pos++;
      const v = this.expr();
      if (this.peek() !== ')') throw new CalculatorError("expected ')'", this.pos);
      this.pos++;
      return v;
    }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(this.src.slice(this.pos));
    if (num) {
      this.pos += num[0].length;
      return Number(num[0]);
    }
    const ident = /^[a-zA-Z_]\w*/.exec(this.src.slice(this.pos));
    if (ident) {
      const name = ident[0].toLowerCase();
      this.pos += ident[0].length;
      if (name in CONSTANTS) return CONSTANTS[name];
      const f = FUNCTIONS[name];
      if (!f) throw new CalculatorError(`unknown name '${ident[0]}'`, at);
      if (this.peek() !== '(') throw new CalculatorError(`expected '(' after ${name}`, this.pos);
      this.pos++;
      const args = [this.expr()];
      while (this.peek() === ',') {
        this.pos++;
        args.push(this.expr());
      }
      if (this.peek() !== ')') throw new CalculatorError("expected ')'", this.pos);
      this.pos++;
      if (args.length < f.arity[0] || args.length > f.arity[1])
        throw new CalculatorError(
          `${name} takes ${f.arity[0]}${f.arity[1] > f.arity[0] ? `..${f.arity[1]}` : ''} argument(s), got ${args.length}`,
          at,
        );
      return f.fn(...args);
    }
    throw new CalculatorError(c ? `unexpected '${c}'` : 'unexpected end of expression', this.pos);
  }
}

/** Evaluates an arithmetic expression; throws CalculatorError naming the position of the problem. */
export function evaluate(expression: string): number {
  if (typeof expression !== 'string' || expression.trim() === '') throw new CalculatorError('empty expression', 0);
  if (expression.length > MAX_LENGTH)
    throw new CalculatorError(`expression longer than ${MAX_LENGTH} characters`, MAX_LENGTH);
  return new Parser(expression).parse();
}
