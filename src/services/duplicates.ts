import { duplicateScore, type DuplicateKey, type DuplicateKind } from '../domain/duplicates.js';
import { invalid } from '../domain/errors.js';
import { requirePermission } from '../domain/roles.js';
import * as contacts from '../db/repositories/contacts.js';
import * as keys from '../db/repositories/duplicate-keys.js';
import type { TenantScope } from '../db/scope.js';
import type { Store } from '../db/store.js';
import type { Actor } from './context.js';
import { decodeCursor, encodeCursor } from './cursor.js';

export interface CandidateSet {
  /** The contacts, oldest first; at most MAX_SHOWN of them. */
  contact_ids: string[];
  /** How many live contacts share the key. */
  size: number;
  score: number;
  /** The keys every contact of the set holds. */
  reasons: DuplicateKey[];
}

export interface DuplicateQuery {
  limit: number;
  cursor?: string;
  min_score?: number;
}

/** Contacts a candidate set lists; a larger set (a shared office address, say) is counted, not listed. */
const MAX_SHOWN = 100;
/** Candidate sets one page reads at most, when min_score passes over many: the next cursor goes on from there. */
const MAX_SCANNED_PER_ITEM = 20;

const CURSOR_SORT = 'duplicates';
const keyId = (k: DuplicateKey) => `${k.kind}\n${k.value}`;

/** Duplicate candidates, read from the key index (src/db/repositories/duplicate-keys.ts), never by comparing contacts in pairs. */
export class DuplicatesService {
  constructor(private readonly store: Store) {}

  async list(
    actor: Actor,
    query: DuplicateQuery,
  ): Promise<{ items: CandidateSet[]; next_cursor: string | null }> {
    requirePermission(actor.role, 'read');
    const scope = this.store.scope(actor.organisationId);
    let after = query.cursor ? decodePosition(query.cursor) : undefined;
    const items: CandidateSet[] = [];
    const budget = query.limit * MAX_SCANNED_PER_ITEM;
    let scanned = 0;
    while (items.length < query.limit && scanned < budget) {
      const want = Math.min(query.limit, budget - scanned);
      const page = await keys.duplicateSetsPage(scope, after, want);
      let read = 0;
      for (const candidate of await candidatesOf(scope, page)) {
        after = page[read++]!;
        scanned++;
        if (candidate && candidate.score >= (query.min_score ?? 0)) items.push(candidate);
        if (items.length === query.limit) break;
      }
      // A short page read to its end is the last one.
      if (page.length < want && read === page.length) return { items, next_cursor: null };
    }
    return { items, next_cursor: after ? encodePosition(after) : null };
  }

  /** Every candidate set, a page at a time: memory stays flat however many there are. */
  async *all(actor: Actor, query: Omit<DuplicateQuery, 'limit' | 'cursor'>): AsyncIterable<CandidateSet> {
    let cursor: string | undefined;
    do {
      const page = await this.list(actor, { ...query, limit: 1000, cursor });
      yield* page.items;
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
  }
}

/**
 * The candidate sets of shared key values: each one's contacts, and every key they all hold.
 * Contacts sharing several keys (an email and a phone) would be one set under each: the set is
 * given once, under the first of those keys (in code point order) that no other contact holds.
 * A few statements for a page, whatever its length, besides one per set for its contacts.
 */
async function candidatesOf(scope: TenantScope, sets: DuplicateKey[]): Promise<(CandidateSet | undefined)[]> {
  const members: number[][] = [];
  for (const set of sets) members.push(await keys.contactsWithKey(scope, set, MAX_SHOWN + 1));
  const listed = [...new Set(members.filter((m) => m.length <= MAX_SHOWN).flat())];
  const heldBy = new Map<number, DuplicateKey[]>();
  for (const row of await keys.keysOfContacts(scope, listed)) {
    const held = heldBy.get(row.contact_key) ?? [];
    held.push({ kind: row.kind as DuplicateKind, value: row.value });
    heldBy.set(row.contact_key, held);
  }
  const reasonsOf = sets.map((set, i) => {
    const contacts = members[i]!;
    if (contacts.length > MAX_SHOWN) return [set];
    const holders = new Map<string, { key: DuplicateKey; n: number }>();
    for (const contact of contacts)
      for (const key of heldBy.get(contact) ?? []) {
        const entry = holders.get(keyId(key)) ?? { key, n: 0 };
        entry.n++;
        holders.set(keyId(key), entry);
      }
    return [...holders.values()].filter((h) => h.n === contacts.length).map((h) => h.key);
  });
  // The earlier keys of a set, whose own sets may be this one: those sets' sizes say.
  const earlier = reasonsOf.flatMap((reasons, i) => reasons.filter((r) => keyId(r) < keyId(sets[i]!)));
  const sizes = await keys.countWithKeys(scope, [
    ...sets.filter((_, i) => members[i]!.length > MAX_SHOWN),
    ...earlier,
  ]);
  const cards = new Map(
    (
      await contacts.findContactCardsByKeys(scope, [
        ...new Set(members.flatMap((m) => m.slice(0, MAX_SHOWN))),
      ])
    ).map((c) => [c.key, c.id]),
  );
  return sets.map((set, i) => {
    const contactKeys = members[i]!;
    const reasons = reasonsOf[i]!;
    if (contactKeys.length < 2) return undefined;
    const size = contactKeys.length > MAX_SHOWN ? sizes.get(keyId(set))! : contactKeys.length;
    if (reasons.some((r) => keyId(r) < keyId(set) && sizes.get(keyId(r)) === size)) return undefined;
    return {
      contact_ids: contactKeys.slice(0, MAX_SHOWN).map((k) => cards.get(k)!),
      size,
      score: duplicateScore(reasons.map((r) => r.kind)),
      reasons: reasons.sort((a, b) => (keyId(a) < keyId(b) ? -1 : 1)),
    };
  });
}

const encodePosition = (k: DuplicateKey) => encodeCursor({ sort: CURSOR_SORT, value: keyId(k), key: 0 });

function decodePosition(cursor: string): DuplicateKey {
  const { value } = decodeCursor(cursor, CURSOR_SORT);
  const split = String(value).indexOf('\n');
  if (split < 0) throw invalid('cursor', 'is not a cursor this list handed out');
  return { kind: String(value).slice(0, split) as DuplicateKind, value: String(value).slice(split + 1) };
}
