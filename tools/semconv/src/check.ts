// Checks emitted telemetry against the loaded conventions and returns every violation found
// (an empty list means conformant), so a failing test shows all problems at once.
import { prometheusName, type SemconvModel } from './model';

/** Our own attributes live under this namespace; they need no definition in the conventions. */
export const OWN_NAMESPACE = 'periscope.';

export interface EmittedSpan {
  name: string;
  kind: string;
  attributes: Record<string, unknown>;
  status: { code: string };
}

/**
 * What the scenario says about each conditionally-required attribute of the group: true when
 * its condition holds (it must be present), false when it does not (it must be absent). One
 * without a decision is a violation, so a new condition in the conventions cannot slip by.
 */
export type Conditions = Readonly<Record<string, boolean>>;

function valueMatchesType(type: string, v: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'int':
      return typeof v === 'number' && Number.isInteger(v);
    case 'double':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'int[]':
    case 'double[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'number');
    case 'enum':
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
    default:
      return true; // 'any' and templates
  }
}

/** Every attribute name defined (or ours), of its type, not deprecated, no deprecated enum value. */
export function checkAttributeNames(model: SemconvModel, where: string, attributes: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith(OWN_NAMESPACE)) continue;
    const def = model.attributes.get(name);
    if (!def) problems.push(`${where}: '${name}' is not defined by the conventions (ours go under '${OWN_NAMESPACE}')`);
    else if (def.deprecated !== undefined) problems.push(`${where}: '${name}' is deprecated`);
    else if (!valueMatchesType(def.type, value))
      problems.push(`${where}: '${name}' must be ${def.type}, got ${JSON.stringify(value)}`);
    else if (model.isDeprecatedValue(name, value))
      problems.push(`${where}: value ${JSON.stringify(value)} of '${name}' is deprecated`);
  }
  return problems;
}

/** Required attributes present; each conditionally-required one present exactly when its condition holds. */
export function checkRequirements(
  model: SemconvModel,
  groupId: string,
  where: string,
  present: (name: string) => boolean,
  conditions: Conditions,
): string[] {
  const problems: string[] = [];
  for (const { name, requirement } of model.groupAttributes(groupId).values()) {
    if (requirement === 'required') {
      if (!present(name)) problems.push(`${where}: required '${name}' is missing (${groupId})`);
    } else if (typeof requirement === 'object' && 'conditionally_required' in requirement) {
      const decided = conditions[name];
      if (decided === undefined)
        problems.push(
          `${where}: no decision for conditionally required '${name}' ("${requirement.conditionally_required}")`,
        );
      else if (decided && !present(name))
        problems.push(`${where}: '${name}' is required here ("${requirement.conditionally_required}")`);
      else if (!decided && present(name))
        problems.push(
          `${where}: '${name}' is set though its condition does not hold ("${requirement.conditionally_required}")`,
        );
    }
  }
  return problems;
}

/** A span against a span group: kind, attribute names and types, requirement levels. */
export function checkSpan(model: SemconvModel, groupId: string, span: EmittedSpan, conditions: Conditions): string[] {
  const group = model.group(groupId);
  const where = `span '${span.name}'`;
  const problems: string[] = [];
  if (group.type !== 'span') problems.push(`${groupId} is not a span group`);
  if (group.span_kind && group.span_kind.toUpperCase() !== span.kind)
    problems.push(`${where}: kind ${span.kind}, the conventions say ${group.span_kind.toUpperCase()}`);
  problems.push(...checkAttributeNames(model, where, span.attributes));
  problems.push(...checkRequirements(model, groupId, where, (n) => span.attributes[n] !== undefined, conditions));
  return problems;
}

export interface EmittedFamily {
  /** The Prometheus family name as exposed (`_total` included for counters). */
  name: string;
  type: string;
  series: Array<{ labels: Record<string, string> }>;
}

/**
 * An exposed Prometheus family against the metric of the conventions it translates: instrument,
 * unit (as the name suffix), labels mapped back to the metric's attributes, requirements per series.
 */
export function checkMetric(
  model: SemconvModel,
  metricName: string,
  family: EmittedFamily,
  conditions: (labels: Record<string, string>) => Conditions,
): string[] {
  const group = model.metricByName(metricName);
  if (!group) return [`metric '${metricName}' is not defined by the conventions`];
  const where = `metric ${family.name}`;
  const problems: string[] = [];
  if (group.deprecated !== undefined) problems.push(`${where}: '${metricName}' is deprecated`);
  const expected = prometheusName(metricName, group.unit);
  if (family.name !== expected)
    problems.push(`${where}: the Prometheus name of ${metricName} (${group.unit}) is ${expected}`);
  const instrument = group.instrument === 'updowncounter' ? 'gauge' : group.instrument;
  if (family.type !== instrument)
    problems.push(`${where}: type ${family.type}, the conventions say ${group.instrument}`);
  const attributes = model.groupAttributes(group.id);
  const byLabel = new Map([...attributes.keys()].map((a) => [prometheusName(a), a]));
  for (const s of family.series) {
    // Prometheus drops empty labels: an empty value is an absent attribute.
    const attrs: Record<string, unknown> = {};
    for (const [label, value] of Object.entries(s.labels)) {
      const attr = byLabel.get(label);
      if (attr === undefined) problems.push(`${where}: label '${label}' is no attribute of ${metricName}`);
      else if (value !== '') {
        const type = model.attributes.get(attr)?.type;
        attrs[attr] = type === 'int' || type === 'double' ? Number(value) : value;
      }
    }
    problems.push(...checkAttributeNames(model, where, attrs));
    problems.push(...checkRequirements(model, group.id, where, (n) => attrs[n] !== undefined, conditions(s.labels)));
  }
  return problems;
}
