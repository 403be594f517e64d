import type { FastifyRequest } from 'fastify';
import type { ContactInput, ExternalIds } from '../../../domain/contact.js';
import { DomainError, invalid } from '../../../domain/errors.js';
import type { ContactCard, Group } from '../../../domain/records.js';
import type { GroupInput } from '../../../services/groups.js';
import type { MemberSpec } from '../../../services/group-members.js';
import type { GroupPatch } from './schemas.js';

const LEGACY_KEYS = ['legacy_id', 'nextgen_legacy_id'] as const;

/*
 * A group embeds every member, so a page of 20 groups can be thousands of contacts: it is
 * written as JSON text straight from the member cards, a piece at a time (see pageJson), not
 * built as objects for the route's serialiser. JSON.stringify escapes a string exactly as
 * that serialiser does; the keys come in the order of the schemas in schemas.ts.
 */
const json = (value: string | null | undefined) => (value == null ? 'null' : JSON.stringify(value));
/** How much of a streamed page is written at a time. */
const PIECE_CHARS = 64 * 1024;

const legacyJson = (ids: ExternalIds) =>
  `"legacy_id":${json(ids.legacy_id)},"nextgen_legacy_id":${json(ids.nextgen_legacy_id)}`;

function contactJson(c: ContactCard): string {
  // A contact known only by a display name (a user's linked contact) shows it as its first name.
  const firstName = c.first_name ?? (c.last_name === null ? c.name : null);
  return (
    `{"id":${json(c.id)},${legacyJson(c.external_ids)},"created_at":${json(c.created_at)},` +
    `"updated_at":${json(c.updated_at)},"first_name":${json(firstName)},"middle_name":${json(c.middle_name)},` +
    `"last_name":${json(c.last_name)},"phone":${json(c.phone)},"email":${json(c.email)},` +
    `"avatar":${json(c.avatar_url)},"is_manual":${c.user_id === null}}`
  );
}

const manualJson = (c: ContactCard) =>
  `{"first_name":${json(c.first_name)},"middle_name":${json(c.middle_name)},"last_name":${json(c.last_name)},` +
  `"phone":${json(c.phone)},"email":${json(c.email)}}`;

/** The members `write` shows, as the elements of a JSON array, one piece each. */
function* elements(members: ContactCard[], write: (c: ContactCard) => string | null): Generator<string> {
  let comma = '';
  for (const member of members) {
    const text = write(member);
    if (text === null) continue;
    yield comma + text;
    comma = ',';
  }
}

/** A group as the church platform shows it (users by id, hand-entered contacts, every member), in pieces. */
function* groupJson(group: Group, members: ContactCard[]): Generator<string> {
  yield `{"id":${json(group.id)},"user_ids":[`;
  yield* elements(members, (c) => (c.user_id === null ? null : json(c.user_id)));
  yield '],"manual_contacts":[';
  yield* elements(members, (c) => (c.user_id === null ? manualJson(c) : null));
  yield '],"contacts":[';
  yield* elements(members, contactJson);
  yield (
    `],${legacyJson(group.external_ids)},"created_at":${json(group.created_at)},` +
    `"updated_at":${json(group.updated_at)},"name":${json(group.name)},"thumbnail":${json(group.thumbnail_url)},` +
    `"church":${json(group.organisation_id)}}`
  );
}

/** One group's JSON (the single-group answers). */
export const groupText = (group: Group, members: ContactCard[]) => [...groupJson(group, members)].join('');

/**
 * A page of groups as JSON, in pieces of about PIECE_CHARS, each group written once its members
 * are read. Nothing is written before the first group's members are read, so that a failure
 * there is still an error answer rather than a cut-off body.
 */
export async function* pageJson(
  head: { count: number; next: string | null; previous: string | null },
  groups: Group[],
  members: AsyncIterable<ContactCard[]>,
): AsyncGenerator<string> {
  let out = `{"count":${head.count},"next":${json(head.next)},"previous":${json(head.previous)},"results":[`;
  let index = 0;
  for await (const cards of members) {
    if (index > 0) out += ',';
    for (const piece of groupJson(groups[index++]!, cards)) {
      out += piece;
      if (out.length >= PIECE_CHARS) {
        yield out;
        out = '';
      }
    }
  }
  yield out + ']}';
}

/** The writable group fields a body names; `church` must be the caller's own organisation. */
export function groupIn(body: GroupPatch, organisationId: string, current?: Group): GroupInput {
  if (body.church !== undefined && body.church !== organisationId) {
    throw invalid('church', `Invalid pk "${body.church}" - object does not exist.`);
  }
  const legacy = LEGACY_KEYS.filter((k) => body[k] !== undefined);
  const externalIds: ExternalIds = { ...(current?.external_ids ?? {}) };
  for (const k of legacy) {
    if (body[k] === null) delete externalIds[k];
    else externalIds[k] = body[k]!;
  }
  return {
    ...(body.name !== undefined && { name: body.name }),
    ...(body.thumbnail !== undefined && { thumbnail_url: body.thumbnail }),
    ...(body.created_at !== undefined && { created_at: body.created_at }),
    ...(legacy.length > 0 && { external_ids: externalIds }),
  };
}

/** The members a body names: platform users (`user_ids`) and hand-entered contacts (`manual_contacts`). */
export function membersIn(body: GroupPatch): MemberSpec {
  return {
    ...(body.user_ids !== undefined && { users: body.user_ids }),
    ...(body.manual_contacts !== undefined && {
      people: body.manual_contacts.map((m): ContactInput => ({
        first_name: m.first_name,
        middle_name: m.middle_name,
        last_name: m.last_name,
        phone: m.phone,
        email: m.email,
      })),
    }),
  };
}

/** A members error in this surface's field names, an unknown user in DRF's words for an unknown primary key. */
export function membersError(error: unknown): never {
  if (!(error instanceof DomainError) || error.code !== 'validation') throw error;
  const unknown = error.details.unknown_users as string[] | undefined;
  const named = (text: string) => text.replace(/^people\./, 'manual_contacts.');
  const fields = unknown
    ? unknown.map((id) => ({ field: 'user_ids', message: `Invalid pk "${id}" - object does not exist.` }))
    : (error.details.fields ?? []).map((f) => ({ ...f, field: named(f.field) }));
  throw new DomainError('validation', named(error.message), { ...error.details, fields });
}

/** This page's URL with another page number: absolute, from the request, as DRF builds next and previous. */
export function pageUrl(request: FastifyRequest, page: number): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  if (page === 1) url.searchParams.delete('page');
  else url.searchParams.set('page', String(page));
  return url.toString();
}
