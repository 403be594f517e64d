import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fastJsonStringify from 'fast-json-stringify';
import type { FastifySchemaCompiler, FastifySchemaValidationError, FastifySerializerCompiler } from 'fastify';

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

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
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

export const serializerCompiler: FastifySerializerCompiler<unknown> = ({ schema }) => {
  let compiled: ((data: unknown) => string) | undefined;
  return (data) => (compiled ??= fastJsonStringify(schema as object))(data);
};
