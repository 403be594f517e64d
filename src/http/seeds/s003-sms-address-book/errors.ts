import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { classifyReply, type Classified } from '../../errors.js';

const CODES: Partial<Record<Classified['code'], string>> = {
  validation: 'invalid_parameter',
  malformed: 'invalid_request',
  not_found: 'not_found',
  unauthenticated: 'unauthorized',
  forbidden: 'forbidden',
  duplicate_phone: 'duplicate',
  conflict: 'conflict',
  busy: 'conflict',
  rate_limited: 'rate_limited',
  locked: 'rate_limited',
  payload_too_large: 'payload_too_large',
  unsupported_media_type: 'invalid_request',
};

/** The document's names for the core's fields. */
const fieldName = (field: string) => (field === 'phone' ? 'phone_number' : field);

/**
 * The one field at fault, if only one is. An id that is neither an integer nor a string of
 * digits fails each branch of its union, so Ajv names the same field several times.
 */
function faultyField(problem: Classified): string | undefined {
  const fields = new Set(problem.fields.map((f) => fieldName(f.field)));
  return fields.size === 1 ? [...fields][0] : undefined;
}

/**
 * Ajv's union messages ("must match a schema in anyOf") say nothing to a client, so an id is
 * described; other field errors are told under the document's names.
 */
function messageOf(problem: Classified, error: FastifyError, field: string | undefined): string {
  if (problem.status >= 500) return 'Internal server error';
  if (field && error.validation?.some((v) => v.keyword === 'anyOf'))
    return `${field} must be an integer or a string of digits`;
  if (problem.fields.length === 0) return problem.message;
  return [...new Set(problem.fields.map((f) => `${fieldName(f.field)} ${f.message}`))].join('; ');
}

/** {"status": "error", "error": {code, message, field}}: field only when one field is at fault. */
export function errors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const problem = classifyReply(error, request, reply);
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer realm="api"');
  const field = faultyField(problem);
  return reply.code(problem.status).send({
    status: 'error',
    error: {
      code: CODES[problem.code] ?? 'server_error',
      message: messageOf(problem, error, field),
      ...(field && { field }),
    },
  });
}
