import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../../../domain/errors.js';

/**
 * The document's clients send `curl --data '{...}'` without a Content-Type, so curl labels
 * the JSON as application/x-www-form-urlencoded, on GET and DELETE too. Within this
 * surface every body is read as JSON when it looks like JSON, else as a form; an empty
 * body is an empty object.
 */
const MAX_GET_BODY = 64 * 1024;

function parseBody(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      throw new DomainError('validation', 'The body is not valid JSON');
    }
  }
  return Object.fromEntries(new URLSearchParams(trimmed));
}

/** Fastify never reads a GET or HEAD body; this API puts its token there, so it is read here. */
async function readGetBody(request: FastifyRequest): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw) {
    size += (chunk as Buffer).length;
    if (size > MAX_GET_BODY) throw new DomainError('payload_too_large', 'The body is too large');
    chunks.push(chunk as Buffer);
  }
  return parseBody(Buffer.concat(chunks).toString('utf8'));
}

export function readAnyBodyAsJson(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseBody(String(body)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addHook('preValidation', async (request) => {
    // A HEAD is its GET without the answer's body: it carries the token where the GET does.
    if (request.method === 'GET' || request.method === 'HEAD') request.body = await readGetBody(request);
    // Requests without any body still get {}: the schemas expect an object.
    request.body ??= {};
  });
}
