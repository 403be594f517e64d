import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../domain/errors.js';

/** A strong ETag from a record's version: every change increments it. */
const etagOf = (version: number) => `"${version}"`;

export function setEtag(reply: FastifyReply, record: { version: number }): void {
  reply.header('etag', etagOf(record.version));
}

/**
 * The version If-Match asks for, or undefined when there is no condition (absent or *).
 * With `required`, a write without If-Match is refused with 428.
 */
export function expectedVersion(request: FastifyRequest, required = false): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined) {
    if (required)
      throw new DomainError(
        'precondition_required',
        'This server requires If-Match on writes; send the ETag you read',
      );
    return undefined;
  }
  if (header.trim() === '*') return undefined;
  const match = /^(?:W\/)?"(\d+)"$/.exec(header.trim());
  if (!match) throw new DomainError('precondition_failed', 'If-Match does not match the current ETag');
  return Number(match[1]);
}
