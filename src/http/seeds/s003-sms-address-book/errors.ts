import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { classify, type Classified } from '../../errors.js';

const CODES: Partial<Record<Classified['code'], string>> = {
  validation: 'invalid_parameter',
  malformed: 'invalid_request',
  not_found: 'not_found',
  unauthenticated: 'unauthorized',
  forbidden: 'forbidden',
  duplicate_phone: 'duplicate',
  conflict: 'conflict',
  rate_limited: 'rate_limited',
  locked: 'rate_limited',
  payload_too_large: 'payload_too_large',
  unsupported_media_type: 'invalid_request',
};

/** {"status": "error", "error": {code, message, field}}: field only when one field is at fault. */
export function smsErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const problem = classify(error);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  const field =
    problem.fields.length === 1 ? problem.fields[0]!.field.replace(/^phone$/, 'phone_number') : undefined;
  return reply.code(problem.status).send({
    status: 'error',
    error: {
      code: CODES[problem.code] ?? 'server_error',
      message: problem.status >= 500 ? 'Internal server error' : problem.message,
      ...(field && { field }),
    },
  });
}
