import { CHANGE_TYPES } from '../../domain/changes.js';
import { DomainError, invalid, notFound } from '../../domain/errors.js';
import { isUuid, uuidv7 } from '../../domain/ids.js';
import { requirePermission } from '../../domain/roles.js';
import { counterOf } from '../../db/repositories/changes.js';
import * as webhooks from '../../db/repositories/webhooks.js';
import type { TenantScope } from '../../db/scope.js';
import type { Store } from '../../db/store.js';
import type { Actor } from '../context.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type { SecretBox } from '../secrets.js';
import { changedMeanwhile, checkVersion } from '../versions.js';
import { checkEndpointUrl } from './addresses.js';
import { newSecret } from './signing.js';

/** How long a rotated-out secret still signs beside the new one. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  disabled_reason: string | null;
  previous_secret_expires_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface WebhookDelivery {
  id: string;
  type: string;
  seq: number | null;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  response_excerpt: string | null;
  next_attempt_at: string | null;
  created_at: string;
  finished_at: string | null;
}

export interface WebhookInput {
  url: string;
  events: string[];
  description?: string | null;
}

export interface WebhooksOptions {
  /** Seals signing secrets at rest; without one, webhooks cannot be created (docs/changes.md). */
  box?: SecretBox;
  /** ROSTER_WEBHOOK_ALLOW_PRIVATE: loopback and private targets allowed (never cloud metadata). */
  allowPrivate: boolean;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Webhook endpoints (admins and owners): their subscriptions, secrets and deliveries. */
export class WebhooksService {
  constructor(
    private readonly store: Store,
    private readonly options: WebhooksOptions,
  ) {}

  async create(actor: Actor, input: WebhookInput): Promise<WebhookEndpoint & { secret: string }> {
    requirePermission(actor.role, 'manage_users');
    const box = this.box();
    const events = checkEvents(input.events);
    await checkEndpointUrl(input.url, this.options.allowPrivate);
    const secret = newSecret();
    const now = Date.now();
    const row = await this.store.transaction(actor, (scope) =>
      webhooks.insertEndpoint(scope, {
        id: uuidv7(now),
        url: input.url,
        description: input.description ?? null,
        events: JSON.stringify(events),
        enabled: 1,
        disabled_reason: null,
        secret: box.seal(secret),
        previous_secret: null,
        previous_secret_until: null,
        created_by: actor.userId,
        created_at: now,
        updated_at: now,
        version: 1,
      }),
    );
    return { ...toEndpoint(row), secret };
  }

  async list(actor: Actor): Promise<WebhookEndpoint[]> {
    requirePermission(actor.role, 'manage_users');
    return (await webhooks.listEndpoints(this.store.scope(actor.organisationId))).map(toEndpoint);
  }

  async get(actor: Actor, id: string): Promise<WebhookEndpoint> {
    requirePermission(actor.role, 'manage_users');
    return toEndpoint(await found(this.store.scope(actor.organisationId), id));
  }

  /** Changes the URL, the events or whether it is enabled; enabling clears why it was disabled. */
  async update(
    actor: Actor,
    id: string,
    patch: Partial<WebhookInput> & { enabled?: boolean },
    expectedVersion?: number,
  ): Promise<WebhookEndpoint> {
    requirePermission(actor.role, 'manage_users');
    const events = patch.events && checkEvents(patch.events);
    if (patch.url !== undefined) await checkEndpointUrl(patch.url, this.options.allowPrivate);
    return this.store.transaction(actor, async (scope) => {
      const current = await found(scope, id);
      checkVersion(current.version, expectedVersion);
      const row = await webhooks.updateEndpoint(scope, current, {
        ...(patch.url !== undefined && { url: patch.url }),
        ...(events && { events: JSON.stringify(events) }),
        ...(patch.description !== undefined && { description: patch.description }),
        ...(patch.enabled !== undefined && { enabled: patch.enabled ? 1 : 0, disabled_reason: null }),
        updated_at: Date.now(),
      });
      if (!row) throw changedMeanwhile('webhook');
      return toEndpoint(row);
    });
  }

  async delete(actor: Actor, id: string): Promise<void> {
    requirePermission(actor.role, 'manage_users');
    await this.store.transaction(actor, async (scope) => {
      if (!isUuid(id) || !(await webhooks.deleteEndpoint(scope, id))) throw notFound('Webhook');
    });
  }

  /** A new secret, shown this once; the old one signs beside it for 24 hours, so receivers can switch over. */
  async rotate(actor: Actor, id: string): Promise<WebhookEndpoint & { secret: string }> {
    requirePermission(actor.role, 'manage_users');
    const box = this.box();
    const secret = newSecret();
    const now = Date.now();
    return this.store.transaction(actor, async (scope) => {
      const current = await found(scope, id);
      const row = await webhooks.updateEndpoint(scope, current, {
        secret: box.seal(secret),
        previous_secret: current.secret,
        previous_secret_until: now + ROTATION_OVERLAP_MS,
        updated_at: now,
      });
      if (!row) throw changedMeanwhile('webhook');
      return { ...toEndpoint(row), secret };
    });
  }

  /** Queues a `webhook.test` event to the endpoint, after what is queued already. */
  async test(actor: Actor, id: string): Promise<WebhookDelivery> {
    requirePermission(actor.role, 'manage_users');
    const now = Date.now();
    const delivery = await this.store.transaction(actor, async (scope) => {
      const endpoint = await found(scope, id);
      const row = webhooks.newDelivery({
        endpointId: endpoint.id,
        seq: null,
        position: (await counterOf(scope)).seq,
        type: 'webhook.test',
        payload: JSON.stringify({
          type: 'webhook.test',
          timestamp: new Date(now).toISOString(),
          data: { endpoint_id: endpoint.id, actor: { user_id: actor.userId } },
        }),
        now,
      });
      await webhooks.insertDelivery(scope, row);
      return { ...row, attempts: 0, organisation_id: actor.organisationId };
    });
    this.store.deliveriesQueued();
    return toDelivery(delivery);
  }

  async deliveries(actor: Actor, id: string, query: { cursor?: string; limit: number }) {
    requirePermission(actor.role, 'manage_users');
    const scope = this.store.scope(actor.organisationId);
    await found(scope, id);
    const sort = `deliveries:${id}`;
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor, sort).key;
    const rows = await webhooks.deliveriesPage(scope, id, query.limit, before);
    const items = rows.slice(0, query.limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toDelivery),
      next_cursor:
        rows.length > query.limit && last
          ? encodeCursor({ sort, value: 0, key: Number(last.position) })
          : null,
    };
  }

  /** Sends a delivery again, from its first attempt, whatever became of it. */
  async redeliver(actor: Actor, id: string, deliveryId: string): Promise<WebhookDelivery> {
    requirePermission(actor.role, 'manage_users');
    const row = await this.store.transaction(actor, async (scope) => {
      await found(scope, id);
      const delivery = isUuid(deliveryId) ? await webhooks.findDelivery(scope, id, deliveryId) : undefined;
      if (!delivery) throw notFound('Delivery');
      const reset = {
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: Date.now(),
        finished_at: null,
      };
      await webhooks.settleDeliveries(scope, [delivery.id], reset);
      return { ...delivery, ...reset, lease_until: null };
    });
    this.store.deliveriesQueued();
    return toDelivery(row);
  }

  private box(): SecretBox {
    if (!this.options.box)
      throw new DomainError(
        'conflict',
        'Webhooks need a key to seal their secrets: set ROSTER_SECRET_KEY (docs/changes.md)',
      );
    return this.options.box;
  }
}

function checkEvents(events: string[]): string[] {
  if (events.length === 0) throw invalid('events', 'must name at least one change type, or "*"');
  for (const event of events)
    if (event !== '*' && !(CHANGE_TYPES as readonly string[]).includes(event))
      throw invalid('events', `${event} is not a change type`);
  return [...new Set(events)];
}

async function found(scope: TenantScope, id: string) {
  const row = isUuid(id) ? await webhooks.findEndpoint(scope, id) : undefined;
  if (!row) throw notFound('Webhook');
  return row;
}

function toEndpoint(row: webhooks.EndpointRow): WebhookEndpoint {
  const rotating = row.previous_secret_until !== null && row.previous_secret_until > Date.now();
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: JSON.parse(row.events) as string[],
    enabled: row.enabled === 1,
    disabled_reason: row.disabled_reason,
    previous_secret_expires_at: rotating ? iso(row.previous_secret_until) : null,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    version: row.version,
  };
}

function toDelivery(row: webhooks.DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    type: row.type,
    seq: row.seq === null ? null : Number(row.seq),
    status: row.status,
    attempts: row.attempts,
    last_status: row.last_status,
    last_error: row.last_error,
    response_excerpt: row.response_excerpt,
    next_attempt_at: row.status === 'pending' ? iso(row.next_attempt_at) : null,
    created_at: iso(row.created_at)!,
    finished_at: iso(row.finished_at),
  };
}
