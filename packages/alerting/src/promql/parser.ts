// A hand-written parser for the PromQL subset alert rules use (see ast.ts). Input length and
// nesting depth are bounded; anything valid in PromQL but outside the subset fails with an
// UnsupportedPromQLError naming the construct, anything invalid with a PromQLSyntaxError.
import { PromQLSyntaxError, UnsupportedPromQLError } from '../errors';
import {
  AGGREGATIONS,
  FUNCTIONS,
  precedence,
  isComparison,
  type AggregationOp,
  type BinaryOp,
  type Expr,
  type FunctionName,
  type LabelMatcher,
  type MatchOp,
  type VectorMatching,
  type VectorSelector,
} from './ast';
import { lex, type Token } from './lexer';

export const MAX_EXPR_LENGTH = 4096;
export const MAX_DEPTH = 64;

export type ValueType = 'scalar' | 'vector' | 'matrix';

const BINARY_OPS = new Set<string>(['+', '-', '*', '/', '==', '!=', '>', '<', '>=', '<=']);
const UNSUPPORTED_BINARY = new Set(['^', '%', 'and', 'or', 'unless', 'atan2']);
const OTHER_AGGREGATIONS = new Set([
  'topk',
  'bottomk',
  'quantile',
  'stddev',
  'stdvar',
  'count_values',
  'group',
  'limitk',
  'limit_ratio',
]);
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** The result type of an expression of the subset. */
export function typeOf(e: Expr): ValueType {
  switch (e.type) {
    case 'number':
      return 'scalar';
    case 'selector':
      return e.rangeMs === undefined ? 'vector' : 'matrix';
    case 'call':
    case 'aggregate':
      return 'vector';
    case 'binary':
      return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector';
  }
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)];
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  private is(text: string): boolean {
    const t = this.peek();
    return (t.kind === 'punct' || t.kind === 'ident') && t.text === text;
  }
  private expect(text: string, what = JSON.stringify(text)): Token {
    const t = this.peek();
    if (!this.is(text)) throw new PromQLSyntaxError(`expected ${what}, got ${describe(t)}`, t.pos);
    return this.next();
  }

  parseTop(): Expr {
    const e = this.parseExpr(0);
    const t = this.peek();
    if (t.kind !== 'eof') {
      if (t.kind === 'ident' && (t.text === 'offset' || t.text === '@'))
        throw new UnsupportedPromQLError('offset modifier', t.pos);
      throw new PromQLSyntaxError(`unexpected ${describe(t)}`, t.pos);
    }
    return e;
  }

  parseExpr(minPrec: number): Expr {
    if (++this.depth > MAX_DEPTH)
      throw new PromQLSyntaxError(`expression nested deeper than ${MAX_DEPTH}`, this.peek().pos);
    let lhs = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if ((t.kind === 'punct' || t.kind === 'ident') && UNSUPPORTED_BINARY.has(t.text))
        throw new UnsupportedPromQLError(`operator ${t.text}`, t.pos);
      if (t.kind !== 'punct' || !BINARY_OPS.has(t.text)) break;
      const op = t.text as BinaryOp;
      const prec = precedence(op);
      if (prec < minPrec) break;
      this.next();
      const matching = this.parseBinaryModifiers(op);
      const rhs = this.parseExpr(prec + 1);
      lhs = this.binary(op, lhs, rhs, matching, t.pos);
    }
    this.depth--;
    return lhs;
  }

  private parseBinaryModifiers(op: BinaryOp): VectorMatching | undefined {
    if (this.is('bool')) throw new UnsupportedPromQLError('bool modifier', this.peek().pos);
    let matching: VectorMatching | undefined;
    if (this.is('on') || this.is('ignoring')) {
      const on = this.next().text === 'on';
      matching = { on, labels: this.parseLabelList() };
    }
    if (this.is('group_left') || this.is('group_right'))
      throw new UnsupportedPromQLError(`${this.peek().text} (many-to-one matching)`, this.peek().pos);
    void op;
    return matching;
  }

  private binary(op: BinaryOp, lhs: Expr, rhs: Expr, matching: VectorMatching | undefined, pos: number): Expr {
    const lt = typeOf(lhs);
    const rt = typeOf(rhs);
    if (lt === 'matrix' || rt === 'matrix')
      throw new PromQLSyntaxError(`binary ${op} on a range vector (wrap it in a function such as rate)`, pos);
    if (isComparison(op) && lt === 'scalar' && rt === 'scalar')
      throw new PromQLSyntaxError(`comparison ${op} between two numbers needs bool`, pos);
    if (matching !== undefined && (lt !== 'vector' || rt !== 'vector'))
      throw new PromQLSyntaxError('vector matching (on/ignoring) only between two vectors', pos);
    return matching === undefined ? { type: 'binary', op, lhs, rhs } : { type: 'binary', op, lhs, rhs, matching };
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (t.kind === 'punct' && (t.text === '-' || t.text === '+')) {
      this.next();
      if (++this.depth > MAX_DEPTH) throw new PromQLSyntaxError(`expression nested deeper than ${MAX_DEPTH}`, t.pos);
      const operand = this.parseUnary();
      this.depth--;
      if (operand.type !== 'number') throw new UnsupportedPromQLError('unary minus on an expression', t.pos);
      return t.text === '-' ? { type: 'number', value: -operand.value } : operand;
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const t = this.next();
    if (t.kind === 'number') return { type: 'number', value: t.value as number };
    if (t.kind === 'string') throw new UnsupportedPromQLError('string literal', t.pos);
    if (t.kind === 'punct' && t.text === '(') {
      const e = this.parseExpr(0);
      this.expect(')');
      if (this.is('[')) throw new UnsupportedPromQLError('subquery', this.peek().pos);
      this.checkNoModifier();
      return e;
    }
    if (t.kind === 'punct' && t.text === '{') throw new UnsupportedPromQLError('selector without a metric name', t.pos);
    if (t.kind !== 'ident') throw new PromQLSyntaxError(`unexpected ${describe(t)}`, t.pos);
    const lower = t.text.toLowerCase();
    if ((lower === 'inf' || lower === 'nan') && !this.is('{') && !this.is('('))
      return { type: 'number', value: lower === 'nan' ? NaN : Infinity };
    if ((AGGREGATIONS as readonly string[]).includes(t.text) && (this.is('(') || this.is('by') || this.is('without')))
      return this.parseAggregation(t.text as AggregationOp);
    if (OTHER_AGGREGATIONS.has(t.text) && (this.is('(') || this.is('by') || this.is('without')))
      throw new UnsupportedPromQLError(`aggregation ${t.text}`, t.pos);
    if (this.is('(')) return this.parseCall(t);
    return this.parseSelector(t);
  }

  private parseAggregation(op: AggregationOp): Expr {
    let grouping: string[] | undefined;
    let without = false;
    const readGrouping = () => {
      if (grouping !== undefined) throw new PromQLSyntaxError('grouping given twice', this.peek().pos);
      without = this.next().text === 'without';
      grouping = this.parseLabelList();
    };
    if (this.is('by') || this.is('without')) readGrouping();
    const open = this.expect('(');
    const expr = this.parseExpr(0);
    if (this.is(',')) throw new UnsupportedPromQLError(`parameter of ${op}`, this.peek().pos);
    this.expect(')');
    if (this.is('by') || this.is('without')) readGrouping();
    if (typeOf(expr) !== 'vector') throw new PromQLSyntaxError(`${op} expects an instant vector`, open.pos);
    return { type: 'aggregate', op, grouping: grouping ?? [], without, expr };
  }

  private parseLabelList(): string[] {
    this.expect('(');
    const labels: string[] = [];
    while (!this.is(')')) {
      const t = this.next();
      if (t.kind !== 'ident' || !LABEL_NAME.test(t.text))
        throw new PromQLSyntaxError(`expected a label name, got ${describe(t)}`, t.pos);
      labels.push(t.text);
      if (!this.is(')')) this.expect(',');
    }
    this.expect(')');
    return labels;
  }

  private parseCall(name: Token): Expr {
    if (!(FUNCTIONS as readonly string[]).includes(name.text))
      throw new UnsupportedPromQLError(`function ${name.text}`, name.pos);
    const func = name.text as FunctionName;
    this.expect('(');
    const args: Expr[] = [];
    while (!this.is(')')) {
      args.push(this.parseExpr(0));
      if (!this.is(')')) this.expect(',');
      if (args.length > 2) throw new PromQLSyntaxError(`too many arguments to ${func}`, name.pos);
    }
    this.expect(')');
    checkArgs(func, args, name.pos);
    return { type: 'call', func, args };
  }

  private parseSelector(name: Token): Expr {
    if (!METRIC_NAME.test(name.text)) throw new PromQLSyntaxError(`invalid metric name ${name.text}`, name.pos);
    const matchers: LabelMatcher[] = this.is('{') ? this.parseMatchers() : [];
    const sel: VectorSelector = { type: 'selector', name: name.text, matchers };
    if (this.is('[')) {
      this.next();
      const d = this.next();
      if (d.kind !== 'duration') throw new PromQLSyntaxError(`expected a range such as 5m, got ${describe(d)}`, d.pos);
      if (this.peek().text.startsWith(':')) throw new UnsupportedPromQLError('subquery', this.peek().pos);
      this.expect(']');
      sel.rangeMs = d.value as number;
    }
    this.checkNoModifier();
    return sel;
  }

  private checkNoModifier(): void {
    if (this.is('offset')) throw new UnsupportedPromQLError('offset modifier', this.peek().pos);
    if (this.is('@')) throw new UnsupportedPromQLError('@ modifier', this.peek().pos);
  }

  private parseMatchers(): LabelMatcher[] {
    this.expect('{');
    const matchers: LabelMatcher[] = [];
    while (!this.is('}')) {
      const n = this.next();
      if (n.kind !== 'ident' || !LABEL_NAME.test(n.text))
        throw new PromQLSyntaxError(`expected a label name, got ${describe(n)}`, n.pos);
      if (n.text === '__name__') throw new UnsupportedPromQLError('__name__ matcher', n.pos);
      const o = this.next();
      if (o.kind !== 'punct' || !['=', '!=', '=~', '!~'].includes(o.text))
        throw new PromQLSyntaxError(`expected =, !=, =~ or !~, got ${describe(o)}`, o.pos);
      const v = this.next();
      if (v.kind !== 'string') throw new PromQLSyntaxError(`expected a quoted label value, got ${describe(v)}`, v.pos);
      const value = v.value as string;
      if (o.text === '=~' || o.text === '!~') checkRegex(value, v.pos);
      matchers.push({ name: n.text, op: o.text as MatchOp, value });
      if (!this.is('}')) this.expect(',');
    }
    this.expect('}');
    return matchers;
  }
}

function checkArgs(func: FunctionName, args: Expr[], pos: number): void {
  const types = args.map(typeOf);
  const want = (expected: ValueType[]) => {
    if (types.length !== expected.length || types.some((t, k) => t !== expected[k]))
      throw new PromQLSyntaxError(
        `${func} expects (${expected.map((t) => (t === 'matrix' ? 'range vector' : t === 'vector' ? 'instant vector' : 'number')).join(', ')})`,
        pos,
      );
  };
  if (func === 'quantile_over_time') want(['scalar', 'matrix']);
  else if (func === 'histogram_quantile') want(['scalar', 'vector']);
  else if (func === 'abs') want(['vector']);
  else want(['matrix']);
  const rangeArg = args[args.length - 1];
  if (types[types.length - 1] === 'matrix' && rangeArg.type !== 'selector')
    throw new UnsupportedPromQLError('subquery', pos);
  if ((func === 'quantile_over_time' || func === 'histogram_quantile') && args[0].type !== 'number')
    throw new UnsupportedPromQLError(`${func} with a computed quantile`, pos);
}

function checkRegex(re: string, pos: number): void {
  try {
    new RegExp(`^(?:${re})$`);
  } catch {
    throw new PromQLSyntaxError(`invalid regular expression ${JSON.stringify(re.slice(0, 40))}`, pos);
  }
}

function describe(t: Token): string {
  return t.kind === 'eof' ? 'end of input' : JSON.stringify(t.text.slice(0, 40));
}

/** Parses an expression of the subset; throws PromQLSyntaxError or UnsupportedPromQLError. */
export function parse(input: string): Expr {
  if (typeof input !== 'string') throw new PromQLSyntaxError('expression must be a string', 0);
  if (input.length > MAX_EXPR_LENGTH)
    throw new PromQLSyntaxError(`expression longer than ${MAX_EXPR_LENGTH} characters`, MAX_EXPR_LENGTH);
  return new Parser(lex(input)).parseTop();
}
