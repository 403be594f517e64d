import type { FastifyRequest } from 'fastify';
import type { ContactInput, ExternalIds } from '../../../domain/contact.js';
import { invalid } from '../../../domain/errors.js';
import type { Contact, Group } from '../../../domain/records.js';
import type { GroupInput } from '../../../services/groups.js';
import type { MemberSets } from '../../../services/group-members.js';
import type { GroupPatch } from './schemas.js';

const LEGACY_KEYS = ['legacy_id', 'nextgen_legacy_id'] as const;

const legacyOf = (ids: ExternalIds) => ({
  legacy_id: ids.legacy_id ?? null,
  nextgen_legacy_id: ids.nextgen_legacy_id ?? null,
});

function contactOut(c: Contact) {
  return {
    id: c.id,
    ...legacyOf(c.external_ids),
    created_at: c.created_at,
    updated_at: c.updated_at,
    // A contact known only by a display name (a user's linked contact) shows it as its first name.
    first_name: c.first_name ?? (c.last_name === null ? c.name : null),
    middle_name: c.middle_name,
    last_name: c.last_name,
    phone: c.phone,
    email: c.email,
    avatar: c.avatar_url,
    is_manual: c.user_id === null,
  };
}

/** A group as the church platform shows it: users by id, hand-entered contacts, and every member. */
export function groupOut(group: Group, members: Contact[]) {
  const manual = members.filter((c) => c.user_id === null);
  return {
    id: group.id,
    user_ids: members.filter((c) => c.user_id !== null).map((c) => c.user_id!),
    manual_contacts: manual.map((c) => ({
      first_name: c.first_name,
      middle_name: c.middle_name,
      last_name: c.last_name,
      phone: c.phone,
      email: c.email,
    })),
    contacts: members.map(contactOut),
    ...legacyOf(group.external_ids),
    created_at: group.created_at,
    updated_at: group.updated_at,
    name: group.name,
    thumbnail: group.thumbnail_url,
    church: group.organisation_id,
  };
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

export function membersIn(body: GroupPatch): MemberSets {
  return {
    ...(body.user_ids !== undefined && { user_ids: body.user_ids }),
    ...(body.manual_contacts !== undefined && {
      manual_contacts: body.manual_contacts.map((m): ContactInput => ({
        first_name: m.first_name,
        middle_name: m.middle_name,
        last_name: m.last_name,
        phone: m.phone,
        email: m.email,
      })),
    }),
  };
}

/** This page's URL with another page number: absolute, from the request, as DRF builds next and previous. */
export function pageUrl(request: FastifyRequest, page: number): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  if (page === 1) url.searchParams.delete('page');
  else url.searchParams.set('page', String(page));
  return url.toString();
}
