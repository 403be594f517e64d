import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { classifyReply, type Classified } from '../errors.js';
import { errorResponses, Text } from '../openapi.js';

/** {"detail": "..."}, or {"field": ["message", ...], ...} for a 400. */
export const DrfError = Type.Record(
  Type.String(),
  Type.Union([Text(10_000), Type.Array(Text(10_000), { maxItems: 100 })]),
  { maxProperties: 1000 },
);

/** Adds the errors the two DRF surfaces' handler can give to a route's schema (see errorResponses). */
export const withDrfErrors = errorResponses(DrfError);

/**
 * Errors as Django REST Framework writes them, for the two seed APIs built on it (000, 002):
 * 400 {"field": ["message"]}, everything else {"detail": "..."}.
 */
export function drfErrorHandler(messages: { invalidCredentials: string }) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const problem = classifyReply(error, request, reply);
    if (problem.status === 401) reply.header('www-authenticate', 'Basic realm="api", Bearer realm="api"');
    return reply.code(problem.status).send(drfBody(problem, messages));
  };
}

function drfBody(problem: Classified, messages: { invalidCredentials: string }): Record<string, unknown> {
  switch (problem.code) {
    case 'validation':
      if (problem.fields.length === 0) return { non_field_errors: [problem.message] };
      return Object.fromEntries(
        problem.fields.map((f) => [
          f.field.split('.')[0],
          [f.message === 'is required' ? 'This field is required.' : sentence(f.message)],
        ]),
      );
    case 'malformed':
      return { detail: `JSON parse error - ${problem.message}` };
    case 'unauthenticated':
      return {
        detail: problem.details.missing
          ? 'Authentication credentials were not provided.'
          : messages.invalidCredentials,
      };
    case 'forbidden':
      return { detail: 'You do not have permission to perform this action.' };
    case 'not_found':
      return { detail: typeof problem.details.detail === 'string' ? problem.details.detail : 'Not found.' };
    case 'rate_limited':
    case 'locked':
      return { detail: 'Request was throttled.' };
    case 'internal':
      return { detail: 'A server error occurred.' };
    default:
      return { detail: problem.message };
  }
}

const sentence = (message: string) => {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return text.endsWith('.') ? text : `${text}.`;
};
