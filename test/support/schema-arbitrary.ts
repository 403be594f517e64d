import fc from 'fast-check';

/** A JSON Schema as the OpenAPI document holds it (only the keywords Roster's schemas use). */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  patternProperties?: Record<string, Schema>;
  maxProperties?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

/** Resolves `#/components/...` references against the document. */
export type Resolve = (schema: Schema) => Schema;

export function resolverOf(document: unknown): Resolve {
  const resolve = (schema: Schema): Schema => {
    if (!schema.$ref) return schema;
    const target = schema.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>(
        (node, key) => (node as Record<string, unknown>)[key.replace(/~1/g, '/').replace(/~0/g, '~')],
        document,
      );
    return resolve(target as Schema);
  };
  return resolve;
}

/** How long generated free text gets, short of a schema's own limit (which is tried too). */
const TYPICAL_LENGTH = 24;

/** Text of any Unicode, control characters and NUL included: real clients send them. */
const anyText = (minLength: number, maxLength: number) =>
  fc.oneof(
    fc.string({ minLength, maxLength, unit: 'grapheme' }),
    fc.string({ minLength, maxLength, unit: 'binary' }),
    fc.string({ minLength, maxLength }),
  );

function stringArbitrary(schema: Schema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 10_000;
  const fits = (s: string) => [...s].length >= min && [...s].length <= max;
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc
        .date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString());
    case 'email':
      return fc.emailAddress().filter(fits);
    case 'uri':
      return fc.webUrl().filter(fits);
  }
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  const typical = Math.max(min, Math.min(max, TYPICAL_LENGTH));
  return fc.oneof(
    { weight: 4, arbitrary: anyText(min, typical) },
    { weight: 1, arbitrary: anyText(max, max) },
  );
}

function integerArbitrary(schema: Schema): fc.Arbitrary<number> {
  const min = schema.minimum ?? Number.MIN_SAFE_INTEGER;
  const max = schema.maximum ?? Number.MAX_SAFE_INTEGER;
  const int32 = fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) });
  return fc.oneof({ weight: 4, arbitrary: int32 }, { weight: 1, arbitrary: fc.constantFrom(min, max) });
}

const typeOf = (schema: Schema) => (Array.isArray(schema.type) ? schema.type[0] : schema.type);

/** Real values to mix in for a property of this name (ids of records that exist, say). */
export type Hint = (name: string, schema: Schema) => fc.Arbitrary<unknown> | undefined;

/** Values that validate against `schema`: each keyword's edges included (empty, longest, least, most). */
export function arbitraryOf(given: Schema, resolve: Resolve, hint?: Hint, name = ''): fc.Arbitrary<unknown> {
  const schema = resolve(given);
  const child = (s: Schema, childName = '') => arbitraryOf(s, resolve, hint, childName);
  const real = name ? hint?.(name, schema) : undefined;
  if (real) return fc.oneof({ weight: 3, arbitrary: real }, { weight: 1, arbitrary: child(schema) });
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return fc.oneof(...union.map((s) => child(s)));
  if (schema.allOf) return child(Object.assign({}, ...schema.allOf.map(resolve)));
  switch (typeOf(schema)) {
    case 'string':
      return stringArbitrary(schema);
    case 'integer':
      return integerArbitrary(schema);
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(child(schema.items ?? {}), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 5, 5),
      });
    case 'object':
      return objectArbitrary(schema, child);
  }
  return fc.constant(null);
}

function objectArbitrary(schema: Schema, child: (s: Schema, name?: string) => fc.Arbitrary<unknown>) {
  const properties = schema.properties ?? {};
  const fixed = fc.record(
    Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, child(s, name)])),
    { requiredKeys: (schema.required ?? []).filter((name) => name in properties) },
  );
  const values =
    typeof schema.additionalProperties === 'object'
      ? schema.additionalProperties
      : Object.values(schema.patternProperties ?? {})[0];
  if (!values) return fixed;
  const extra = fc.dictionary(fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/), child(values), {
    maxKeys: Math.min(schema.maxProperties ?? 3, 3),
  });
  return fc.tuple(fixed, extra).map(([own, more]) => ({ ...more, ...own }));
}
