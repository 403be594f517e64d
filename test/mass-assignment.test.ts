import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

const FOREIGN_ID = '01900000-0000-7000-8000-000000000001';
const OLD = '2001-01-01T00:00:00.000Z';

/** The fields a caller never sets on any record, with values that would show if they were stored. */
const RECORD_FIELDS: Record<string, unknown> = {
  id: FOREIGN_ID,
  key: 1,
  organisation_id: FOREIGN_ID,
  organisation: FOREIGN_ID,
  version: 99,
  created_at: OLD,
  updated_at: OLD,
  deleted_at: OLD,
  created_by: FOREIGN_ID,
};

describe.each(dialects)('mass assignment on %s', (dialect) => {
  let h: Harness;
  let auth: { authorization: string };
  let refused = 0;
  let ignored = 0;
  const send = (method: InjectOptions['method'], url: string, payload?: unknown, authorization = auth) =>
    h.request({
      method,
      url,
      headers: authorization,
      ...(payload !== undefined && { payload: payload as object }),
    });
  const read = async (url: string) => (await send('GET', url)).json();

  beforeAll(async () => {
    h = await createHarness(dialect);
    auth = { authorization: h.a.owner.apiKey };
  });
  afterAll(async () => {
    console.log(
      `[${dialect}] mass assignment: ${refused} protected fields refused (400 naming them, 403 for role or status on oneself), ${ignored} ignored as the seed documents say; stored = 0`,
    );
    await h.close();
  });

  /** Each field alone, on one /v1 write: a 400 naming it, and the record as it was. */
  async function refusesEach(
    method: InjectOptions['method'],
    url: string,
    valid: Record<string, unknown>,
    fields: Record<string, unknown>,
    readBack?: string,
  ) {
    const before = readBack && (await read(readBack));
    for (const [field, value] of Object.entries(fields)) {
      const res = await send(method, url, { ...valid, [field]: value });
      expect(res.statusCode, `${method} ${url} ${field}`).toBe(400);
      expect(
        res.json().errors.map((e: { field: string }) => e.field),
        `${method} ${url} ${field}`,
      ).toContain(field);
      refused++;
    }
    if (readBack) expect(await read(readBack), `${method} ${url}`).toEqual(before);
  }

  it('refuses every protected field of a contact on create, replace and patch, naming it', async () => {
    const fields = { ...RECORD_FIELDS, phone_raw: '1', phone_valid: true, search_doc: 'x', sort_name: 'x' };
    await refusesEach('POST', '/v1/contacts', { name: 'Created' }, fields);
    expect((await read('/v1/contacts?q=created')).items).toEqual([]);
    const contact = (await send('POST', '/v1/contacts', { name: 'Target' })).json();
    for (const method of ['PUT', 'PATCH'] as const)
      await refusesEach(
        method,
        `/v1/contacts/${contact.id}`,
        { name: 'Changed' },
        fields,
        `/v1/contacts/${contact.id}`,
      );
  });

  it('refuses every protected field of a group, its member count included', async () => {
    const fields = { ...RECORD_FIELDS, member_count: 1000 };
    await refusesEach('POST', '/v1/groups', { name: 'Created' }, fields);
    expect((await read('/v1/groups?q=created')).items).toEqual([]);
    const group = (await send('POST', '/v1/groups', { name: 'Target' })).json();
    for (const method of ['PUT', 'PATCH'] as const)
      await refusesEach(
        method,
        `/v1/groups/${group.id}`,
        { name: 'Changed' },
        fields,
        `/v1/groups/${group.id}`,
      );
    const contact = (await send('POST', '/v1/contacts', { name: 'Member' })).json();
    await refusesEach(
      'POST',
      `/v1/groups/${group.id}/members`,
      { contact_ids: [contact.id] },
      { member_count: 5 },
    );
  });

  it('refuses the organisation’s and users’ protected fields, password hashes included', async () => {
    await refusesEach('PATCH', '/v1/organisation', { name: 'Acme' }, RECORD_FIELDS, '/v1/organisation');
    const userFields = { ...RECORD_FIELDS, password_hash: 'scrypt$x', token_generation: 0 };
    await refusesEach(
      'POST',
      '/v1/users',
      { username: 'mass-new', password: 'a long password', role: 'viewer' },
      userFields,
    );
    const user = await h.a.addUser('editor', 'mass');
    await refusesEach(
      'PATCH',
      `/v1/users/${user.user.id}`,
      { display_name: 'Changed' },
      userFields,
      `/v1/users/${user.user.id}`,
    );
    // Role and status on oneself: refused (403), even for an owner.
    for (const patch of [{ role: 'owner' }, { is_active: false }]) {
      const self = await send('PATCH', `/v1/users/${user.user.id}`, patch, { authorization: user.apiKey });
      expect(self.statusCode, JSON.stringify(patch)).toBe(403);
      refused++;
    }
    expect((await read(`/v1/users/${user.user.id}`)).role).toBe('editor');
  });

  it('refuses an API key’s prefix, hash and other protected fields', async () => {
    const fields = {
      id: FOREIGN_ID,
      key: 'rst_chosen-by-the-caller',
      prefix: 'rst_chosen',
      key_hash: 'a'.repeat(64),
      organisation_id: FOREIGN_ID,
      created_at: OLD,
      last_used_at: OLD,
      revoked_at: OLD,
    };
    await refusesEach('POST', '/v1/api-keys', { name: 'mass key' }, fields);
    expect((await read('/v1/api-keys')).items.map((k: { name: string }) => k.name)).not.toContain('mass key');
  });

  /** What a seed write left in the organisation, through /v1: none of the protected values may be there. */
  async function storesNone(values: unknown[]) {
    const everything = JSON.stringify([
      (await read('/v1/groups?limit=1000')).items,
      (await read('/v1/contacts?limit=1000')).items,
    ]);
    for (const value of values) expect(everything, String(value)).not.toContain(String(value));
    const other = { authorization: h.b.owner.apiKey };
    expect((await send('GET', '/v1/groups', undefined, other)).json().items).toEqual([]);
    expect((await send('GET', '/v1/contacts', undefined, other)).json().items).toEqual([]);
  }

  it('seed 000: the read-only fields of the document’s examples are accepted and ignored', async () => {
    const base = `/api/v1.0/organisation/${h.a.org.id}/contact-groups`;
    const readOnly = {
      unique_id: FOREIGN_ID,
      organisation_name: 'Evil Corp',
      created_by_name: 'Mallory',
      contacts_count: 999,
      date_created: OLD,
      last_updated: OLD,
    };
    const basic = { authorization: h.a.owner.basic };
    const created = await send('POST', `${base}/create/`, { ...readOnly, translations: 'Seed zero' }, basic);
    expect(created.statusCode).toBe(201);
    const id = created.json().unique_id;
    expect(id).not.toBe(FOREIGN_ID);
    const patched = await send(
      'PATCH',
      `${base}/${id}/`,
      { ...readOnly, translations: 'Seed zero b' },
      basic,
    );
    expect(patched.statusCode).toBe(200);
    ignored += Object.keys(readOnly).length * 2;
    const group = await read(`/v1/groups/${id}`);
    expect(group).toMatchObject({ member_count: 0, created_by: h.a.owner.user.id });
    expect(group.created_at).not.toBe(OLD);
    await storesNone([FOREIGN_ID, 'Evil Corp', 'Mallory', OLD, '2001-01-01']);
  });

  it('seed 001: ids, timestamps and owners in a body are not taken', async () => {
    const readOnly = {
      _id: FOREIGN_ID,
      createdAt: OLD,
      updatedAt: OLD,
      user: FOREIGN_ID,
      created_by: FOREIGN_ID,
    };
    const res = await send('POST', '/contact', { ...readOnly, name: 'Seed one', number: '08031119999' });
    if (res.statusCode === 400) refused += Object.keys(readOnly).length;
    else ignored += Object.keys(readOnly).length;
    expect([200, 201, 400]).toContain(res.statusCode);
    await storesNone([FOREIGN_ID, OLD, '2001-01-01']);
  });

  it('seed 002: id and updated_at are ignored, and church cannot move a group to another organisation', async () => {
    const jwt = { authorization: h.a.owner.jwt };
    const path = '/api/unified-communications/contact-groups';
    const created = await send(
      'POST',
      path,
      { id: FOREIGN_ID, updated_at: OLD, name: 'Seed two', church: h.a.org.id },
      jwt,
    );
    expect(created.statusCode).toBe(201);
    expect(created.json().id).not.toBe(FOREIGN_ID);
    ignored += 2;
    const elsewhere = await send('POST', path, { name: 'Moved', church: h.b.org.id }, jwt);
    expect(elsewhere.statusCode).toBeGreaterThanOrEqual(400);
    expect(elsewhere.statusCode).toBeLessThan(500);
    refused++;
    await storesNone([FOREIGN_ID, OLD, 'Moved']);
  });

  it('seed 003: fields the document does not list are refused with 400 naming them', async () => {
    for (const [field, value] of Object.entries({ id: 123, created_at: OLD, organisation_id: FOREIGN_ID })) {
      const res = await send('POST', '/api/contact/new', { phone_number: '0412 000 333', [field]: value });
      expect(res.statusCode, field).toBe(400);
      expect(res.json().error.field ?? res.json().error.message, field).toContain(field);
      refused++;
    }
    const group = await send('POST', '/api/group/new', { name: 'Seed three', contacts_count: 50 });
    expect(group.statusCode).toBe(400);
    refused++;
    await storesNone([FOREIGN_ID, OLD, 'Seed three']);
  });
});
