// Loads the vendored OpenTelemetry semantic-convention YAML models (vendor/) into a registry of
// attributes and a resolver of groups (spans, metrics, attribute groups with `extends`).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const VENDOR_DIR = path.join(__dirname, '..', 'vendor');

export type RequirementLevel =
  'required' | 'recommended' | 'opt_in' | { conditionally_required: string } | { recommended: string };

export interface EnumMember {
  id: string;
  value: string | number | boolean;
  deprecated?: unknown;
}

export interface AttributeDef {
  id: string;
  /** 'string', 'int', 'double', 'boolean', 'string[]', 'any', … or 'enum' (members). */
  type: string;
  members?: EnumMember[];
  deprecated?: unknown;
  stability?: string;
  /** Referenced by a vendored group, its registry not vendored: type and deprecation unknown. */
  outsideExcerpt?: boolean;
}

interface RawAttribute {
  id?: string;
  /** definition/2 files name a registry attribute `key`. */
  key?: string;
  ref?: string;
  type?: string | { members: EnumMember[] };
  requirement_level?: RequirementLevel;
  deprecated?: unknown;
  stability?: string;
}

export interface GroupDef {
  id: string;
  type: string;
  extends?: string;
  span_kind?: string;
  metric_name?: string;
  instrument?: string;
  unit?: string;
  deprecated?: unknown;
  attributes?: RawAttribute[];
}

export interface GroupAttribute {
  name: string;
  requirement: RequirementLevel;
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = path.join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (entry.endsWith('.yaml')) out.push(p);
  }
  return out.sort();
}

export class SemconvModel {
  readonly attributes = new Map<string, AttributeDef>();
  readonly groups = new Map<string, GroupDef>();

  constructor(dir: string = VENDOR_DIR) {
    for (const file of yamlFiles(dir)) {
      const doc = parse(readFileSync(file, 'utf8')) as { groups?: GroupDef[]; attributes?: RawAttribute[] };
      for (const group of doc.groups ?? []) this.add(group);
      // definition/2 (newer files): registry attributes at the top level, keyed by `key`.
      for (const a of doc.attributes ?? []) this.addAttribute({ ...a, id: a.key });
    }
    // A group may `ref` an attribute whose registry is outside the excerpt (client.address,
    // user_agent.original): it is defined, but its type and deprecation are unknown here.
    for (const g of this.groups.values())
      for (const a of g.attributes ?? [])
        if (a.ref !== undefined && !this.attributes.has(a.ref))
          this.attributes.set(a.ref, { id: a.ref, type: 'any', outsideExcerpt: true });
  }

  private add(group: GroupDef): void {
    this.groups.set(group.id, group);
    for (const a of group.attributes ?? []) this.addAttribute(a);
  }

  private addAttribute(a: RawAttribute): void {
    if (a.id === undefined) return;
    const t = a.type;
    this.attributes.set(a.id, {
      id: a.id,
      type: typeof t === 'string' ? t : 'enum',
      members: typeof t === 'object' ? t.members : undefined,
      deprecated: a.deprecated,
      stability: a.stability,
    });
  }

  group(id: string): GroupDef {
    const g = this.groups.get(id);
    if (!g) throw new Error(`no group '${id}' in the vendored semantic conventions`);
    return g;
  }

  /** The attributes of a group with `extends` resolved (the extending group's requirement levels win). */
  groupAttributes(id: string): Map<string, GroupAttribute> {
    const g = this.group(id);
    const out = g.extends ? this.groupAttributes(g.extends) : new Map<string, GroupAttribute>();
    for (const a of g.attributes ?? []) {
      const name = a.ref ?? a.id!;
      const prior = out.get(name);
      out.set(name, { name, requirement: a.requirement_level ?? prior?.requirement ?? 'recommended' });
    }
    return out;
  }

  /** The metric group whose metric_name is `name`. */
  metricByName(name: string): GroupDef | undefined {
    for (const g of this.groups.values()) if (g.type === 'metric' && g.metric_name === name) return g;
    return undefined;
  }

  /** Whether a value of an enum attribute is deprecated (every member carrying that value is). */
  isDeprecatedValue(attribute: string, value: unknown): boolean {
    const members = this.attributes.get(attribute)?.members?.filter((m) => m.value === value) ?? [];
    return members.length > 0 && members.every((m) => m.deprecated !== undefined);
  }
}

/** Prometheus' translation of an OpenTelemetry name (and unit) to a metric or label name. */
export function prometheusName(name: string, unit = ''): string {
  const base = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  const suffix = ({ s: '_seconds', By: '_bytes', '1': '_ratio' } as Record<string, string>)[unit] ?? '';
  return suffix && !base.endsWith(suffix) ? base + suffix : base;
}
