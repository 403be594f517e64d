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

/** The organisation's enabled endpoints, read by every write: remembered, and forgotten by each write of endpoints. */
const ENABLED_ENDPOINTS = 'enabled webhook endpoints';
const ENABLED = prepare((scope: TenantScope) =>
  scope.selectFrom('webhook_endpoints').select(['id', 'events']).where('enabled', '=', 1),
);

/** Whether an endpoint's subscription (a JSON list of types, or ["*"]) takes this type. */
export const subscribes = (events: string[], type: string) => events.includes('*') || events.includes(type);

/** A delivery queued now: of a change (by its seq), or of a body of its own (a test event). */
export function newDelivery(p: {
  endpointId: string;
  seq: number | null;
  position: number;
  type: string;
  payload?: string;
  now: number;
}): Omit<DeliveryRow, 'organisation_id' | 'attempts'> {
  return {
    id: uuidv7(p.now),
    endpoint_id: p.endpointId,
    seq: p.seq,
    position: p.position,
    type: p.type,
    payload: p.payload ?? null,
    status: 'pending',
    next_attempt_at: p.now,
    lease_until: null,
    last_status: null,
    last_error: null,
    response_excerpt: null,
    created_at: p.now,
    finished_at: null,
  };
}

/**
 * Queues a delivery of each change that notifies (domain/changes.ts) to each enabled endpoint
 * subscribed to its type, in the transaction that made it: a committed change is never without
 * its deliveries, a rolled-back one never has any. Returns how many.
 */
export async function queueDeliveries(scope: TenantScope, rows: ChangeRow[]): Promise<number> {
  const sent = rows.filter((row) => notifies(row.type as ChangeType, row.surface as Surface));
  if (sent.length === 0) return 0;
  const endpoints = await scope.remembered(ENABLED_ENDPOINTS, () => scope.run(ENABLED, {}));
  if (endpoints.length === 0) return 0;
  const now = Date.now();
  const deliveries: Omit<DeliveryRow, 'organisation_id' | 'attempts'>[] = [];
  for (const endpoint of endpoints) {
    const events = JSON.parse(endpoint.events) as string[];
    for (const row of sent)
      if (subscribes(events, row.type))
        deliveries.push(
          newDelivery({ endpointId: endpoint.id, seq: row.seq, position: row.seq, type: row.type, now }),
        );
  }
  for (const chunk of chunks(deliveries, 1000)) await scope.insertInto('webhook_deliveries', chunk).execute();
  return deliveries.length;
}

export function insertEndpoint(scope: TenantScope, row: Omit<EndpointRow, 'organisation_id'>) {
  scope.forget(ENABLED_ENDPOINTS);
  return scope.insertInto('webhook_endpoints', row).returningAll().executeTakeFirstOrThrow();
}

export function listEndpoints(scope: TenantScope) {
  return scope.selectFrom('webhook_endpoints').selectAll().orderBy('created_at').orderBy('id').execute();
}

export function findEndpoint(scope: TenantScope, id: string) {
  return scope.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Applies changes only if the endpoint is still at `version`; returns the new row. */
export function updateEndpoint(
  scope: TenantScope,
  current: Pick<EndpointRow, 'id' | 'version'>,
  changes: Partial<Omit<EndpointRow, 'organisation_id' | 'id' | 'version'>>,
) {
  scope.forget(ENABLED_ENDPOINTS);
  return scope
    .updateTable('webhook_endpoints')
    .set({ ...changes, version: current.version + 1 })
    .where('id', '=', current.id)
    .where('version', '=', current.version)
    .returningAll()
    .executeTakeFirst();
}

/** Deletes an endpoint with its deliveries. */
export async function deleteEndpoint(scope: TenantScope, id: string): Promise<boolean> {
  scope.forget(ENABLED_ENDPOINTS);
  await scope.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
  const { numDeletedRows } = await scope
    .deleteFrom('webhook_endpoints')
    .where('id', '=', id)
    .executeTakeFirst();
  return numDeletedRows > 0n;
}

/** An endpoint's deliveries, newest first, before a position when given. */
export function deliveriesPage(scope: TenantScope, endpointId: string, limit: number, before?: number) {
  let query = scope
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .orderBy('position', 'desc')
    .orderBy('created_at', 'desc')
    .limit(limit + 1);
  if (before !== undefined) query = query.where('position', '<', before);
  return query.execute();
}

export function findDelivery(scope: TenantScope, endpointId: string, id: string) {
  return scope
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function insertDelivery(
  scope: TenantScope,
  row: Omit<DeliveryRow, 'organisation_id' | 'attempts'>,
) {
  await scope.insertInto('webhook_deliveries', row).execute();
}

/** An endpoint's next deliveries, in the order they are due to it. */
export function nextDeliveries(scope: TenantScope, endpointId: string, limit: number) {
  return scope
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .orderBy('position')
    .orderBy('created_at')
    .limit(limit)
    .execute();
}

/**
 * Takes deliveries for `until` unless another worker holds them: the head of an endpoint's
 * queue is taken first and alone, so one worker at a time sends to an endpoint, in order.
 * Returns the ids taken.
 */
export async function leaseDeliveries(scope: TenantScope, ids: string[], now: number, until: number) {
  if (ids.length === 0) return [];
  const taken = await scope
    .updateTable('webhook_deliveries')
    .set({ lease_until: until })
    .where('id', 'in', ids)
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
    .returning('id')
    .execute();
  return taken.map((row) => row.id);
}

export type DeliveryOutcome = Partial<
  Pick<
    DeliveryRow,
    | 'status'
    | 'next_attempt_at'
    | 'last_status'
    | 'last_error'
    | 'response_excerpt'
    | 'finished_at'
    | 'lease_until'
  >
> & { attempts?: number };

/** Records an outcome and ends the lease; `attempted` counts one more attempt on each. */
export async function settleDeliveries(
  scope: TenantScope,
  ids: string[],
  outcome: DeliveryOutcome,
  attempted = false,
) {
  if (ids.length === 0) return;
  await scope
    .updateTable('webhook_deliveries')
    .set((eb) => ({ lease_until: null, ...outcome, ...(attempted && { attempts: eb('attempts', '+', 1) }) }))
    .where('id', 'in', ids)
    .execute();
}

/** Stops deliveries to an endpoint after its retries ran out, saying why (the admin sees it). */
export async function disableEndpoint(scope: TenantScope, id: string, reason: string) {
  scope.forget(ENABLED_ENDPOINTS);
  await scope
    .updateTable('webhook_endpoints')
    .set((eb) => ({
      enabled: 0,
      disabled_reason: reason,
      version: eb('version', '+', 1),
      updated_at: Date.now(),
    }))
    .where('id', '=', id)
    .execute();
}
