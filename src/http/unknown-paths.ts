import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../domain/errors.js';

export type ErrorHandler = (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => unknown;

/** Where a surface's paths begin, and the handler that writes its errors. */
export interface SurfaceErrors {
  prefixes: readonly string[];
  errors: ErrorHandler;
}

/**
 * What answers a request no route serves: 404 in the error style of the surface whose prefix
 * its path is under, else in `fallback`'s. Whatever the method or the body: no route would
 * read the body, so it is not parsed, and a malformed one is no reason for a 400. What every
 * request is refused for before its handler runs (a Content-Type header that is not a media
 * type, a NUL in the query string) is told in the same surface's style.
 */
export function unknownPaths(surfaces: readonly SurfaceErrors[], fallback: ErrorHandler): FastifyPluginAsync {
  const errorsOf = (url: string) => {
    const path = url.split('?')[0]!;
    const under = (prefix: string) => path === prefix || path.startsWith(`${prefix}/`);
    return surfaces.find((surface) => surface.prefixes.some(under))?.errors ?? fallback;
  };
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));
    app.setErrorHandler((error: FastifyError, request, reply) =>
      errorsOf(request.url)(error, request, reply),
    );
    // The URL is not echoed: its query string may hold a credential (a 401 elsewhere, never written back).
    app.setNotFoundHandler(async () => {
      throw new DomainError('not_found', 'No route serves this method and path');
    });
  };
}
