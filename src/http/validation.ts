import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fastJsonStringify from 'fast-json-stringify';
import { Stream } from 'node:stream';
import type {
  FastifyRequest,
  FastifyServerOptions,
  FastifySchemaCompiler,
  FastifySchemaValidationError,
  FastifySerializerCompiler,
} from 'fastify';
import { invalid } from '../domain/errors.js';

const options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false } as const;
// Bodies are JSON and keep their types: "5" for a number is a 400, not a silent coercion.
const bodies = addFormats.default(new Ajv.default({ ...options, coerceTypes: false }));
// Query strings and paths are text: numbers and booleans in them are read as such.
const text = addFormats.default(new Ajv.default({ ...options, coerceTypes: 'array' }));

/*
 * Fastify compiles every schema of every route when it starts: about 100 routes, each with a
 * validator and a serialiser per status code, took most of the CPU of a cold start. Each is
 * compiled the first time a request needs it instead; the tests reach every route.
 */

type Errors = FastifySchemaValidationError[] | null | undefined;

const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart, contentType }) => {
  // @fastify/multipart parses no form into request.body: the route reads the parts as they
  // stream in (the import's file), so a form's schema describes it to clients, not to Ajv.
  if (httpPart === 'body' && contentType === 'multipart/form-data') return () => true;
  let compiled: ValidateFunction | undefined;
  const validate = Object.assign(
    (data: unknown) => {
      compiled ??= (httpPart === 'body' ? bodies : text).compile(schema as object);
      const valid = compiled(data);
      validate.errors = compiled.errors as Errors;
      return valid;
    },
    { errors: null as Errors },
  );
  return validate;
};

const serializerCompiler: FastifySerializerCompiler<unknown> = ({ schema }) => {
  let compiled: ((data: unknown) => string) | undefined;
  return (data) => (compiled ??= fastJsonStringify(forSerializer(schema) as object))(data);
};

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
/**
 * These compilers, given as Fastify is created (`schemaController`), so that it does not load
 * and set up its default ones (@fastify/ajv-compiler and ~30 modules of Ajv) only to have them
 * replaced. The option's types are the default compilers'; Fastify calls these as it would
 * call the ones set with setValidatorCompiler and setSerializerCompiler.
 */
export const compilersFactory = {
  buildValidator: () => validatorCompiler,
  buildSerializer: () => serializerCompiler,
} as unknown as CompilersFactory;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

const SCALARS = new Set(['string', 'number', 'integer', 'boolean', 'null']);

/**
 * fast-json-stringify writes an `anyOf` by running Ajv on the value against each option until
 * one matches: a contact has 14 nullable fields, some with formats and patterns, so a page of
 * 50 ran 700 validations. A choice between scalars needs none: the serialiser gets such an
 * `anyOf` as the types it allows (`nullable` for null) and writes values by their JavaScript
 * type. Validation and the OpenAPI document keep the schema as written.
 */
function forSerializer(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forSerializer);
  if (!isObject(schema)) return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, forSerializer(value)]));
  const { anyOf, ...rest } = copy;
  if (!Array.isArray(anyOf) || !anyOf.every((o) => isObject(o) && SCALARS.has(o.type as string))) return copy;
  const options = anyOf as Record<string, unknown>[];
  const types = [...new Set(options.map((o) => o.type as string).filter((t) => t !== 'null'))];
  if (types.length === 0) return copy;
  const nullable = options.some((o) => o.type === 'null');
  // A date-time is written as such only when it is the one non-null option.
  const formats = options.filter((o) => o.type !== 'null').map((o) => o.format);
  const format = formats.length === 1 ? formats[0] : undefined;
  return {
    ...rest,
    type: types.length === 1 ? types[0] : types,
    ...(nullable && { nullable: true }),
    ...(format !== undefined && { format }),
  };
}

/** Where the first NUL character is in a parsed value (a key or a string), as a dotted path. */
function nulAt(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  // Parsed JSON, query strings and path parameters: a streamed upload is read elsewhere.
  if (!isObject(value) || value instanceof Stream || Buffer.isBuffer(value)) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes('\0')) return at;
    const found = nulAt(child, at);
    if (found) return found;
  }
  return undefined;
}

/**
 * No text holds U+0000: PostgreSQL cannot store it and no contact field means it. Every surface
 * refuses it alike, in its own error style, before the schema or any service sees the request.
 * A callback hook, as every request runs it: an async one costs each request a promise.
 */
export function refuseNul(request: FastifyRequest, _reply: unknown, done: (error?: Error) => void): void {
  const at =
    nulAt(request.body, '') ?? nulAt(request.query, 'querystring') ?? nulAt(request.params, 'params');
  done(at === undefined ? undefined : invalid(at || 'body', 'must not contain the NUL character (U+0000)'));
}
