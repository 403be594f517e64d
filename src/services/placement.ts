import { notFound } from '../domain/errors.js';
import * as groups from '../db/repositories/groups.js';
import * as memberships from '../db/repositories/memberships.js';
import type { TenantScope } from '../db/scope.js';

/** Where a contact should be: in these groups, and with `exclusive` in no others ("move to"). */
export interface Placement {
  groupKeys: number[];
  exclusive?: boolean;
}

/** Checks that every group exists before anything is written, so a bad group id writes nothing. */
export async function checkGroups(scope: TenantScope, groupKeys: number[]): Promise<void> {
  const found = await groups.findGroupRowsByKeys(scope, groupKeys);
  if (found.length !== new Set(groupKeys).size) throw notFound('Group');
}

/** Applies a placement inside the caller's transaction. */
export async function placeContact(
  scope: TenantScope,
  contactKey: number,
  placement: Placement,
  addedBy: string,
): Promise<void> {
  const current = (await memberships.groupKeysOfContacts(scope, [contactKey])).map((m) => m.group_key);
  if (placement.exclusive)
    for (const key of current.filter((k) => !placement.groupKeys.includes(k)))
      await memberships.removeMembers(scope, key, [contactKey]);
  const now = Date.now();
  for (const key of placement.groupKeys.filter((k) => !current.includes(k)))
    await memberships.addMembers(scope, key, [contactKey], addedBy, now);
}
