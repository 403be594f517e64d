import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { Group } from '../../domain/records.js';
import type { Actor } from '../../services/context.js';
import type { Services } from '../../services/index.js';

/** What the seed surfaces may answer at most, set by the operator (ROSTER_SEED_LIST_MAX). */
export interface SeedLimits {
  /** Items in one answer of a list whose document has no pagination. */
  listMax: number;
}

const TRUNCATED_HEADER = 'x-roster-truncated';

/** The schema of such a list: what it holds, at most `listMax` of them. */
export const wholeListOf = <T extends TSchema>(item: T, limits: SeedLimits, what: string) =>
  Type.Array(item, {
    maxItems: limits.listMax,
    description: `${what}: the document has no pagination; at most ${limits.listMax} (ROSTER_SEED_LIST_MAX), with ${TRUNCATED_HEADER}: true when there were more`,
  });

/**
 * The groups of a list the seed's document does not paginate, a page at a time, but never
 * more than `listMax`: a longer list is cut there and the answer says so in a header.
 */
export async function wholeGroupList(
  services: Services,
  actor: Actor,
  filter: { created_by?: string },
  limits: SeedLimits,
  reply: FastifyReply,
): Promise<Group[]> {
  const all: Group[] = [];
  let cursor: string | undefined;
  do {
    const limit = Math.min(1000, limits.listMax - all.length + 1);
    const page = await services.groups.list(actor, { ...filter, limit, cursor, sort: 'created_at' });
    all.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && all.length <= limits.listMax);
  if (all.length <= limits.listMax) return all;
  reply.header(TRUNCATED_HEADER, 'true');
  return all.slice(0, limits.listMax);
}
