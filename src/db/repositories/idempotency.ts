import type { TenantScope } from '../scope.js';

/** Claims a key for a request; returns the stored row when the key was already claimed. */
export async function claimIdempotencyKey(
  scope: TenantScope,
  userId: string,
  key: string,
  requestHash: string,
  now: number,
) {
  const inserted = await scope
    .insertInto('idempotency_keys', {
      user_id: userId,
      idempotency_key: key,
      request_hash: requestHash,
      status_code: null,
      response_body: null,
      created_at: now,
    })
    .onConflict((oc) => oc.columns(['organisation_id', 'user_id', 'idempotency_key']).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return undefined;
  return scope
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
}

export async function completeIdempotencyKey(
  scope: TenantScope,
  userId: string,
  key: string,
  statusCode: number,
  body: string,
) {
  await scope
    .updateTable('idempotency_keys')
    .set({ status_code: statusCode, response_body: body })
    .where('user_id', '=', userId)
    .where('idempotency_key', '=', key)
    .execute();
}

export async function releaseIdempotencyKey(scope: TenantScope, userId: string, key: string) {
  await scope
    .deleteFrom('idempotency_keys')
    .where('user_id', '=', userId)
    .where('idempotency_key', '=', key)
    .execute();
}
