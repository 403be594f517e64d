import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { classifyReply } from '../errors.js';

/**
 * The /v1 error handler: every failure becomes RFC 9457 application/problem+json with
 * the request id and, for validation errors, the fields at fault.
 */
export function problemHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const problem = classifyReply(error, request, reply);
  if (problem.status === 401)
    reply.header(
      'www-authenticate',
      // A Basic challenge makes a browser prompt for a password over the console's own sign-in form.
      request.headers['x-roster-console'] === '1'
        ? 'Bearer realm="roster"'
        : 'Basic realm="roster", Bearer realm="roster"',
    );
  const { existing_contact_id, merged_into, current_version, retry_after } = problem.details;
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send({
      type: `https://roster.dev/problems/${problem.code}`,
      title: problem.code.replace(/_/g, ' '),
      status: problem.status,
      detail: problem.message,
      code: problem.code,
      request_id: request.id,
      ...(problem.fields.length > 0 && { errors: problem.fields }),
      ...(existing_contact_id !== undefined && { existing_contact_id }),
      ...(merged_into !== undefined && { merged_into }),
      ...(current_version !== undefined && { current_version }),
      ...(retry_after !== undefined && { retryable: true, retry_after }),
    });
}
