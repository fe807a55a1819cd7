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
 * its condition holds (it must be present), false when it does not (it must be absent),
 * 'opt_in' when it does not but the conventions let instrumentation set it anyway (a condition
 * that is no "if and only if": the attribute falls back to opt-in). One without a decision is a
 * violation, so a new condition in the conventions cannot slip by.
 */
export type Conditions = Readonly<Record<string, boolean | 'opt_in'>>;

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
      else if (decided === 'opt_in') continue;
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

/**
 * Recording errors: the span status is ERROR exactly when `error.type` is set (a failure the
 * conventions tell us to mark, or one we recorded), UNSET otherwise (never OK from a library).
 */
export function checkErrorStatus(span: EmittedSpan): string[] {
  const where = `span '${span.name}'`;
  const typed = span.attributes['error.type'] !== undefined;
  if (typed && span.status.code !== 'ERROR')
    return [`${where}: error.type is set but the status is ${span.status.code}`];
  if (!typed && span.status.code !== 'UNSET')
    return [`${where}: status ${span.status.code} without error.type (ERROR needs one, OK is for applications)`];
  return [];
}

const HTTP_OTHER = '_OTHER';

/**
 * An HTTP span's name and status: `{method} {target}` or `{method}` (`HTTP` for `_OTHER`), the
 * target being http.route (server) or url.template (client), never the path; status ERROR on 5xx
 * (and on 4xx for a client), never on a server's 4xx, with error.type the status code.
 */
export function checkHttpSpan(span: EmittedSpan): string[] {
  const where = `span '${span.name}'`;
  const a = span.attributes;
  const problems = checkErrorStatus(span);
  const method = a['http.request.method'] === HTTP_OTHER ? 'HTTP' : String(a['http.request.method']);
  const target = span.kind === 'SERVER' ? a['http.route'] : a['url.template'];
  const expected = typeof target === 'string' ? `${method} ${target}` : method;
  if (span.name !== expected) problems.push(`${where}: the conventions name it '${expected}'`);
  const status = a['http.response.status_code'];
  if (typeof status === 'number') {
    const failing = status >= 500 || (status >= 400 && span.kind === 'CLIENT');
    if (failing && a['error.type'] === undefined) problems.push(`${where}: status code ${status} is an error here`);
    if (!failing && span.status.code === 'ERROR' && span.kind === 'SERVER' && status >= 400)
      problems.push(`${where}: a ${status} is no server error`);
    if (failing && a['error.type'] !== undefined && typeof a['error.type'] !== 'string')
      problems.push(`${where}: error.type must be a string`);
  }
  return problems;
}

/**
 * The span names the database conventions allow for these attributes: `{db.query.summary}`, else
 * `{db.operation.name} {target}` or `{db.operation.name}`, else `{target}`, else
 * `{db.system.name}`; target = collection, stored procedure, namespace (not for Redis, whose
 * index "looks confusing"), or `server.address:server.port`.
 */
export function allowedDbSpanNames(a: Record<string, unknown>): string[] {
  if (typeof a['db.query.summary'] === 'string') return [a['db.query.summary']];
  const targets: string[] = [];
  for (const key of ['db.collection.name', 'db.stored_procedure.name'])
    if (typeof a[key] === 'string') targets.push(a[key]);
  if (a['db.system.name'] !== 'redis' && typeof a['db.namespace'] === 'string') targets.push(a['db.namespace']);
  if (a['server.address'] !== undefined && a['server.port'] !== undefined)
    targets.push(`${String(a['server.address'])}:${String(a['server.port'])}`);
  const op = a['db.operation.name'];
  if (typeof op === 'string') return [...targets.map((t) => `${op} ${t}`), op];
  return targets.length > 0 ? targets : [String(a['db.system.name'])];
}

/** A database span: db.system.name as the system's conventions demand, its name, error status. */
export function checkDbSpan(span: EmittedSpan, system: string): string[] {
  const where = `span '${span.name}'`;
  const problems = checkErrorStatus(span);
  if (span.attributes['db.system.name'] !== system)
    problems.push(
      `${where}: db.system.name MUST be '${system}', got ${JSON.stringify(span.attributes['db.system.name'])}`,
    );
  const allowed = allowedDbSpanNames(span.attributes);
  if (!allowed.includes(span.name))
    problems.push(`${where}: the conventions name it one of ${JSON.stringify(allowed)}`);
  return problems;
}
