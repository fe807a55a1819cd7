// One-shot evaluation of an expression text (an instant query) over a source of series.
import type { SeriesSource } from '../source';
import { evalVector, type Vector } from './eval';
import { parse } from './parser';

/** Evaluates `expr` at `timeMs` like Prometheus' instant query; throws the parser's typed errors. */
export function evaluateExpr(expr: string, source: SeriesSource, timeMs: number): Vector {
  return evalVector(parse(expr), { source, time: timeMs });
}
