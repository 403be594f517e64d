import { createHash } from 'node:crypto';
import { DomainError, invalid } from '../domain/errors.js';
import * as idempotency from '../db/repositories/idempotency.js';
import type { Store } from '../db/store.js';
import type { Actor } from './context.js';

export interface StoredResponse {
  statusCode: number;
  body: string;
}

const MAX_KEY_LENGTH = 255;
/** Longer than any request may run (30 s time-out), short enough for a client's retry loop. */
const ABANDONED_AFTER_MS = 5 * 60 * 1000;

/**
 * Idempotency-Key on POST: the first request with a key runs and its response is kept;
 * the same key with the same request replays it; with another request it is refused.
 */
export class IdempotencyService {
  constructor(private readonly store: Store) {}

  /** Returns the stored response to replay, or undefined when this request should run. */
  async begin(
    actor: Actor,
    key: string,
    request: { method: string; url: string; body: unknown },
  ): Promise<StoredResponse | undefined> {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH)
      throw invalid('Idempotency-Key', `must be 1-${MAX_KEY_LENGTH} characters`);
    const hash = createHash('sha256')
      .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
      .digest('hex');
    const existing = await idempotency.claimIdempotencyKey(
      this.store.scope(actor.organisationId),
      actor.userId,
      key,
      hash,
      Date.now(),
    );
    if (!existing) return undefined;
    // A claim that never finished belongs to a request whose process died: after a while the key is free again.
    if (existing.status_code === null && existing.created_at < Date.now() - ABANDONED_AFTER_MS) {
      await idempotency.releaseIdempotencyKey(this.store.scope(actor.organisationId), actor.userId, key);
      return this.begin(actor, key, request);
    }
    if (existing.request_hash !== hash)
      throw new DomainError('idempotency_mismatch', 'This Idempotency-Key was used with a different request');
    if (existing.status_code === null || existing.response_body === null)
      throw new DomainError(
        'idempotency_in_progress',
        'A request with this Idempotency-Key is still in progress',
      );
    return { statusCode: existing.status_code, body: existing.response_body };
  }

  /** Keeps a successful response for replay; a failed request frees its key so the client can retry. */
  async finish(actor: Actor, key: string, response: StoredResponse): Promise<void> {
    const scope = this.store.scope(actor.organisationId);
    if (response.statusCode < 400)
      await idempotency.completeIdempotencyKey(scope, actor.userId, key, response.statusCode, response.body);
    else await idempotency.releaseIdempotencyKey(scope, actor.userId, key);
  }
}
