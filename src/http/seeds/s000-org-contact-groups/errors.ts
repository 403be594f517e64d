import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, invalid } from '../../../domain/errors.js';
import { GROUP_NAME_MAX } from '../../../domain/group.js';
import { drfErrorHandler } from '../drf-errors.js';

const drf = drfErrorHandler({ invalidCredentials: 'Invalid username/password.' });

const isDictionary = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const kind = (value: unknown) => (Array.isArray(value) ? 'list' : value === null ? 'null' : typeof value);

/**
 * Seed 000's errors: Django REST Framework's shapes, each naming a field this API has.
 * `translations` is a name or an object, so Ajv explains both readings of it; only the one
 * the client meant is kept.
 */
export function errors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  return drf(explain(error, request.body) as FastifyError, request, reply);
}

function explain(error: FastifyError, body: unknown): unknown {
  if (error instanceof DomainError) return renamed(error);
  if (!error.validation || error.validationContext !== 'body') return error;
  if (!isDictionary(body))
    return invalid('non_field_errors', `Invalid data. Expected a dictionary, but got ${kind(body)}.`);
  if (!error.validation.some((v) => v.keyword === 'anyOf' && v.instancePath === '/translations'))
    return error;
  const value = body.translations;
  const message =
    value === null
      ? 'This field may not be null.'
      : typeof value === 'string'
        ? value === ''
          ? 'This field may not be blank.'
          : `Ensure this field has no more than ${GROUP_NAME_MAX} characters.`
        : isDictionary(value)
          ? `Expected {language: {name, description}}: language codes such as "en" or "fr-CA", each with a name of 1 to ${GROUP_NAME_MAX} characters.`
          : `Expected a name or an object of {language: {name, description}}, but got ${kind(value)}.`;
  // One sentence about the field in place of Ajv's account of each reading of it.
  error.validation = [
    ...error.validation.filter((v) => !v.instancePath.startsWith('/translations')),
    { instancePath: '/translations', schemaPath: '', keyword: 'translations', params: {}, message },
  ];
  return error;
}

/** The service speaks of the group's `name`; here that is the default language's entry in `translations`. */
function renamed(error: DomainError): DomainError {
  const name = error.code === 'validation' && error.details.fields?.find((f) => f.field === 'name');
  if (!name) return error;
  return invalid('translations', `The name in the organisation's default language ${name.message}`);
}
