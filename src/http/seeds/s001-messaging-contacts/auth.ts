import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../../domain/errors.js';
import type { Services } from '../../../services/index.js';
import { authenticate } from '../../auth.js';

/**
 * Authorization: Bearer, or `access_token` in the JSON body as the document sends it.
 * An expired access token with a refresh token in `x-refresh` is renewed on the spot;
 * the new pair comes back in the x-access-token and x-refresh-token response headers
 * (the refresh token rotates: the old one is spent).
 */
export async function authenticateMessaging(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const bodyToken = (request.body as { access_token?: unknown } | undefined)?.access_token;
  const fallback =
    typeof bodyToken === 'string' && bodyToken !== ''
      ? { kind: 'bearer' as const, token: bodyToken }
      : undefined;
  try {
    await authenticate(services, request, { surface: 'seed-001', fallback });
  } catch (error) {
    const refresh = request.headers['x-refresh'];
    const expired = error instanceof DomainError && error.details.expired === true;
    if (!expired || typeof refresh !== 'string' || refresh === '') throw error;
    const tokens = await services.auth.refresh(refresh);
    reply.header('x-access-token', tokens.access_token).header('x-refresh-token', tokens.refresh_token);
    await authenticate(services, request, {
      surface: 'seed-001',
      override: { kind: 'bearer', token: tokens.access_token },
    });
  }
}
