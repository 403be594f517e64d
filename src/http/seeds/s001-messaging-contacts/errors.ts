import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { classifyReply } from '../../errors.js';

/** {"status": false, "message": "..."} with the status that fits. */
export function errors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const problem = classifyReply(error, request, reply);
  if (problem.status === 401) reply.header('www-authenticate', 'Bearer realm="api"');
  const message = problem.status >= 500 ? 'Something went wrong, please try again' : problem.message;
  return reply.code(problem.status).send({ status: false, message });
}
