import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { arbitraryOf, resolverOf, type Hint, type Resolve, type Schema } from './schema-arbitrary.js';

/** What the fuzz suite reads of the OpenAPI document. */
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}
interface Media {
  schema?: Schema;
}
interface ResponseSpec {
  content?: Record<string, Media>;
}
interface OperationSpec {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, Media> };
  responses: Record<string, ResponseSpec>;
}
export interface Document {
  paths: Record<string, Record<string, OperationSpec>>;
  components?: unknown;
}

export interface Operation {
  id: string;
  method: string;
  path: string;
  spec: OperationSpec;
  pathParams: Parameter[];
  queryParams: Parameter[];
  body?: { schema: Schema; mediaType: string };
}

/** One request, as generated: `raw` replaces the JSON body when it is set (malformed JSON). */
export interface FuzzRequest {
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  body?: unknown;
  raw?: string;
  /** What the mutation did, for the report. */
  mutation?: string;
}

const JSON_MEDIA = /^application\/(?:[\w.-]+\+)?json$/;

export function operationsOf(document: Document): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, spec]) => {
      // Bodies are generated as JSON: a file upload's media types (POST /v1/imports) get none.
      const json = Object.entries(spec.requestBody?.content ?? {}).find(([type]) => JSON_MEDIA.test(type));
      return {
        id: spec.operationId,
        method: method.toUpperCase(),
        path,
        spec,
        pathParams: (spec.parameters ?? []).filter((p) => p.in === 'path'),
        queryParams: (spec.parameters ?? []).filter((p) => p.in === 'query'),
        body: json?.[1].schema ? { schema: json[1].schema, mediaType: json[0] } : undefined,
      };
    }),
  );
}

/** Query strings are text: numbers and booleans are sent as the server reads them. */
const asText = (value: unknown): string | string[] =>
  Array.isArray(value) ? value.map((v) => String(v)) : String(value);

const partsSchema = (params: Parameter[]): Schema => ({
  type: 'object',
  properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
  required: params.filter((p) => p.required).map((p) => p.name),
});

/**
 * Validators for the document's schemas, as the server applies them: bodies keep their types,
 * paths and query strings are coerced from text; formats as the app's Ajv knows them.
 */
export class Validators {
  private readonly strict = addFormats.default(new Ajv.default({ strict: false, allErrors: false }));
  private readonly coercing = addFormats.default(
    new Ajv.default({ strict: false, allErrors: false, coerceTypes: 'array', useDefaults: true }),
  );
  private readonly cache = new Map<string, ValidateFunction>();
  readonly resolve: Resolve;

  constructor(private readonly document: Document) {
    this.resolve = resolverOf(document);
  }

  /** Compiled with the document's components beside it, so its `#/components/...` references resolve. */
  private compiled(schema: Schema, coerce: boolean): ValidateFunction {
    const key = `${coerce}:${JSON.stringify(schema)}`;
    let validate = this.cache.get(key);
    if (!validate) {
      validate = (coerce ? this.coercing : this.strict).compile({
        allOf: [schema],
        components: this.document.components,
      });
      this.cache.set(key, validate);
    }
    return validate;
  }

  validates(schema: Schema, value: unknown): boolean {
    return this.compiled(schema, false)(value) as boolean;
  }

  /** Whether the server, validating as the document says, must refuse this request. */
  isInvalid(op: Operation, request: FuzzRequest): boolean {
    if (request.raw !== undefined) return true;
    const text = (params: Parameter[], values: Record<string, unknown>) =>
      this.compiled(partsSchema(params), true)(structuredClone(values)) as boolean;
    if (!text(op.pathParams, request.params) || !text(op.queryParams, request.query)) return true;
    return op.body !== undefined && !this.validates(op.body.schema, request.body);
  }

  /** The declared response for this status and content type, or why there is none. */
  checkResponse(
    op: Operation,
    status: number,
    contentType: string | undefined,
    body: string,
  ): string | undefined {
    const spec = op.spec.responses[String(status)] ?? op.spec.responses.default;
    if (!spec) return `status ${status} is not declared`;
    if (!spec.content) return body === '' ? undefined : `status ${status} declares no body, got one`;
    const media = contentType?.split(';')[0]!.trim() ?? '';
    const declared = Object.entries(spec.content).find(([type]) => type.split(';')[0]!.trim() === media);
    if (!declared) return `status ${status}: content type ${media} is not declared`;
    const schema = declared[1].schema;
    if (!schema || !media.includes('json')) return undefined;
    const validate = this.compiled(schema, false);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return `status ${status}: the body is not JSON`;
    }
    if (validate(parsed)) return undefined;
    return `status ${status}: body does not match its schema: ${this.strict.errorsText(validate.errors)}`;
  }
}

/** Valid requests: each part drawn from its schema, with real values mixed in by `hint`. */
export function validRequests(op: Operation, resolve: Resolve, hint: Hint): fc.Arbitrary<FuzzRequest> {
  const part = (params: Parameter[], text: boolean) =>
    fc.record(
      Object.fromEntries(
        params.map((p) => [
          p.name,
          arbitraryOf(p.schema, resolve, hint, p.name).map((v) => (text ? asText(v) : v)),
        ]),
      ),
      { requiredKeys: params.filter((p) => p.required).map((p) => p.name) },
    ) as fc.Arbitrary<Record<string, string>>;
  return fc.record({
    params: part(op.pathParams, true),
    query: part(op.queryParams, true),
    body: op.body ? arbitraryOf(op.body.schema, resolve, hint) : fc.constant(undefined),
  }) as fc.Arbitrary<FuzzRequest>;
}

/** The wrong values tried for a field: each of another JSON type, and a few that break formats. */
const WRONG_TYPES: unknown[] = [12345, -1.5, true, null, 'not-what-was-asked', [], [1, 2], {}, { a: 1 }];

type Mutation = (op: Operation, request: FuzzRequest, resolve: Resolve) => FuzzRequest | undefined;

const topLevel = (op: Operation, resolve: Resolve) => {
  const schema = op.body ? resolve(op.body.schema) : undefined;
  return schema?.properties ? { schema, properties: schema.properties } : undefined;
};
const bodyObject = (request: FuzzRequest) =>
  request.body && typeof request.body === 'object' && !Array.isArray(request.body)
    ? (request.body as Record<string, unknown>)
    : {};

const without = <T>(object: Record<string, T>, key: string) =>
  Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));

/** Ways to make a valid request invalid; each is kept only if the document says it is invalid. */
const MUTATIONS: Record<string, Mutation> = {
  'malformed JSON': (op, r) => (op.body ? { ...r, raw: '{"truncated": ' } : undefined),
  'body of the wrong JSON type': (op, r) => (op.body ? { ...r, body: ['an', 'array'] } : undefined),
  'unknown body field': (op, r, resolve) =>
    topLevel(op, resolve)?.schema.additionalProperties === false
      ? { ...r, body: { ...bodyObject(r), unexpected_field: 'x' } }
      : undefined,
  'missing required body field': (op, r, resolve) => {
    const name = topLevel(op, resolve)?.schema.required?.[0];
    if (!name) return undefined;
    return { ...r, body: without(bodyObject(r), name) };
  },
  'body field of the wrong type': (op, r, resolve) => {
    const fields = Object.keys(topLevel(op, resolve)?.properties ?? {});
    if (fields.length === 0) return undefined;
    const field = fields[(JSON.stringify(r.body ?? '').length + fields.length) % fields.length]!;
    const wrong = WRONG_TYPES[field.length % WRONG_TYPES.length];
    return { ...r, body: { ...bodyObject(r), [field]: wrong } };
  },
  'oversized or out-of-range body field': (op, r, resolve) => {
    const entry = Object.entries(topLevel(op, resolve)?.properties ?? {})
      .map(([name, s]) => [name, beyond(s, resolve)] as const)
      .find(([, value]) => value !== undefined);
    return entry ? { ...r, body: { ...bodyObject(r), [entry[0]]: entry[1] } } : undefined;
  },
  'query parameter of the wrong type or out of range': (op, r, resolve) => {
    const entry = op.queryParams
      .map((p) => [p.name, beyond(p.schema, resolve) ?? wrongText(p.schema, resolve)] as const)
      .find(([, value]) => value !== undefined);
    return entry ? { ...r, query: { ...r.query, [entry[0]]: asText(entry[1]) } } : undefined;
  },
  'missing required query parameter': (op, r) => {
    const name = op.queryParams.find((p) => p.required)?.name;
    if (!name) return undefined;
    return { ...r, query: without(r.query, name) };
  },
  'malformed path parameter': (op, r, resolve) => {
    const entry = op.pathParams
      .map((p) => [p.name, beyond(p.schema, resolve) ?? wrongText(p.schema, resolve)] as const)
      .find(([, value]) => value !== undefined);
    return entry ? { ...r, params: { ...r.params, [entry[0]]: String(entry[1]) } } : undefined;
  },
};
export const MUTATION_NAMES = Object.keys(MUTATIONS);

/** A value just past a schema's limit: one character too long, one past the range, one item too many. */
function beyond(given: Schema, resolve: Resolve): unknown {
  const schema = resolve(given);
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) return branches.map((b) => beyond(b, resolve)).find((v) => v !== undefined);
  if (schema.maxLength !== undefined) return 'x'.repeat(schema.maxLength + 1);
  if (schema.maximum !== undefined) return schema.maximum + 1;
  if (schema.minimum !== undefined) return schema.minimum - 1;
  if (schema.maxItems !== undefined) return Array.from({ length: schema.maxItems + 1 }, () => 'x');
  return undefined;
}

/** Text the server must refuse for a parameter: not a number, not a boolean, not of its format. */
function wrongText(given: Schema, resolve: Resolve): string | undefined {
  const schema = resolve(given);
  if (schema.type === 'integer' || schema.type === 'number') return 'NaN-or-text';
  if (schema.type === 'boolean') return 'perhaps';
  if (schema.format || schema.pattern || schema.enum) return 'does not fit the format ☃';
  return undefined;
}

/** Invalid requests: a valid one with one mutation, kept only when the document makes it invalid. */
export function invalidRequests(
  op: Operation,
  validators: Validators,
  hint: Hint,
): fc.Arbitrary<FuzzRequest | undefined> {
  return fc
    .tuple(validRequests(op, validators.resolve, hint), fc.nat({ max: MUTATION_NAMES.length - 1 }))
    .map(([request, first]) => {
      for (let i = 0; i < MUTATION_NAMES.length; i++) {
        const name = MUTATION_NAMES[(first + i) % MUTATION_NAMES.length]!;
        const mutated = MUTATIONS[name]!(op, request, validators.resolve);
        if (mutated && validators.isInvalid(op, mutated)) return { ...mutated, mutation: name };
      }
      return undefined;
    });
}
