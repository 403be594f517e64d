import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

const options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false } as const;
// Bodies are JSON and keep their types: "5" for a number is a 400, not a silent coercion.
const bodies = addFormats.default(new Ajv.default({ ...options, coerceTypes: false }));
// Query strings and paths are text: numbers and booleans in them are read as such.
const text = addFormats.default(new Ajv.default({ ...options, coerceTypes: 'array' }));

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodies : text).compile(schema as object);
