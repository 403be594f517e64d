import type { Selectable } from 'kysely';
import { notifies, type ChangeType, type Surface } from '../../domain/changes.js';
import { uuidv7 } from '../../domain/ids.js';
import { prepare } from '../prepared.js';
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from '../schema.js';
import type { TenantScope } from '../scope.js';
import type { ChangeRow } from './changes.js';
import { chunks } from './chunks.js';

export type EndpointRow = Selectable<WebhookEndpointsTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

const ENABLED = prepare((scope: TenantScope) =>
  scope.selectFrom('webhook_endpoints').select(['id', 'events']).where('enabled', '=', 1),
);

/** Whether an endpoint's subscription (a JSON list of types, or ["*"]) takes this type. */
export const subscribes = (events: string[], type: string) => events.includes('*') || events.includes(type);

/**
 * Queues a delivery of each change that notifies (domain/changes.ts) to each enabled endpoint
 * subscribed to its type, in the transaction that made it: a committed change is never without
 * its deliveries, a rolled-back one never has any. Returns how many.
 */
export async function queueDeliveries(scope: TenantScope, rows: ChangeRow[]): Promise<number> {
  const sent = rows.filter((row) => notifies(row.type as ChangeType, row.surface as Surface));
  if (sent.length === 0) return 0;
  const endpoints = await scope.run(ENABLED, {});
  if (endpoints.length === 0) return 0;
  const now = Date.now();
  const deliveries: Omit<DeliveryRow, 'organisation_id' | 'attempts'>[] = [];
  for (const endpoint of endpoints) {
    const events = JSON.parse(endpoint.events) as string[];
    for (const row of sent)
      if (subscribes(events, row.type))
        deliveries.push({
          id: uuidv7(now),
          endpoint_id: endpoint.id,
          seq: row.seq,
          position: row.seq,
          type: row.type,
          payload: null,
          status: 'pending',
          next_attempt_at: now,
          lease_until: null,
          last_status: null,
          last_error: null,
          response_excerpt: null,
          created_at: now,
          finished_at: null,
        });
  }
  for (const chunk of chunks(deliveries, 1000)) await scope.insertInto('webhook_deliveries', chunk).execute();
  return deliveries.length;
}
