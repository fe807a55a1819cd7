// A validator for the subset of JSON Schema the GenAI message schemas use: $ref into $defs,
// anyOf, oneOf, const, enum, type (incl. null), properties, required, items,
// additionalProperties (true/false/schema). Annotations (title, description, default, format)
// are ignored; any other keyword is refused, so a schema outgrowing the subset fails loudly.
type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(['title', 'description', 'default', 'format', '$defs', '$schema', '$id', 'examples']);
const KEYWORDS = new Set([
  '$ref',
  'anyOf',
  'oneOf',
  'const',
  'enum',
  'type',
  'properties',
  'required',
  'items',
  'additionalProperties',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(expected: string, v: unknown): boolean {
  const t = typeOf(v);
  return expected === t || (expected === 'number' && t === 'integer');
}

export class JsonSchemaValidator {
  constructor(private readonly root: Schema) {
    this.checkKeywords(root);
  }

  private checkKeywords(node: unknown): void {
    if (Array.isArray(node)) return node.forEach((n) => this.checkKeywords(n));
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node as Schema)) {
      if (!KEYWORDS.has(k) && !ANNOTATIONS.has(k)) throw new Error(`JSON Schema keyword '${k}' is not supported`);
      if (k === 'properties' || k === '$defs') for (const s of Object.values(v as Schema)) this.checkKeywords(s);
      else if (k !== 'const' && k !== 'enum' && k !== 'default' && k !== 'examples') this.checkKeywords(v);
    }
  }

  /** The errors of `value` against the schema ([] when valid), each with its JSON path. */
  validate(value: unknown): string[] {
    const errors: string[] = [];
    this.check(this.root, value, '$', errors);
    return errors;
  }

  private resolve(ref: string): Schema {
    if (!ref.startsWith('#/')) throw new Error(`only local $ref are supported, got ${ref}`);
    let node: unknown = this.root;
    for (const part of ref.slice(2).split('/')) node = (node as Schema)[part];
    if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
    return node as Schema;
  }

  private check(schema: Schema, v: unknown, at: string, errors: string[]): void {
    if (typeof schema.$ref === 'string') this.check(this.resolve(schema.$ref), v, at, errors);
    if ('const' in schema && v !== schema.const) errors.push(`${at}: must be ${JSON.stringify(schema.const)}`);
    if (Array.isArray(schema.enum) && !schema.enum.includes(v))
      errors.push(`${at}: must be one of ${JSON.stringify(schema.enum)}`);
    if (typeof schema.type === 'string' && !typeMatches(schema.type, v)) {
      errors.push(`${at}: must be of type ${schema.type}, got ${typeOf(v)}`);
      return;
    }
    this.checkAlternatives(schema, v, at, errors);
    if (typeOf(v) === 'object') this.checkObject(schema, v as Schema, at, errors);
    if (Array.isArray(v) && schema.items !== undefined)
      v.forEach((item, i) => this.check(schema.items as Schema, item, `${at}[${i}]`, errors));
  }

  private matches(schema: Schema, v: unknown, at: string): boolean {
    const sub: string[] = [];
    this.check(schema, v, at, sub);
    return sub.length === 0;
  }

  private checkAlternatives(schema: Schema, v: unknown, at: string, errors: string[]): void {
    if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s: Schema) => this.matches(s, v, at)))
      errors.push(`${at}: matches none of anyOf`);
    if (Array.isArray(schema.oneOf)) {
      const n = schema.oneOf.filter((s: Schema) => this.matches(s, v, at)).length;
      if (n !== 1) errors.push(`${at}: must match exactly one of oneOf, matches ${n}`);
    }
  }

  private checkObject(schema: Schema, v: Schema, at: string, errors: string[]): void {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    if (Array.isArray(schema.required))
      for (const key of schema.required as string[]) if (!(key in v)) errors.push(`${at}: missing required '${key}'`);
    for (const [key, value] of Object.entries(v)) {
      if (props[key] !== undefined) this.check(props[key], value, `${at}.${key}`, errors);
      else if (schema.additionalProperties === false) errors.push(`${at}: unexpected property '${key}'`);
      else if (typeof schema.additionalProperties === 'object')
        this.check(schema.additionalProperties as Schema, value, `${at}.${key}`, errors);
    }
  }
}
