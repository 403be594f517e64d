import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

describe.each(dialects)('the canonical API on %s', (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  it('creates a contact from a local number and finds it by search, phone and group', async () => {
    const auth = { authorization: h.a.owner.apiKey };
    const group = await h.request({
      method: 'POST',
      url: '/v1/groups',
      headers: auth,
      payload: { name: 'Choir' },
    });
    expect(group.statusCode).toBe(201);
    const created = await h.request({
      method: 'POST',
      url: '/v1/contacts',
      headers: auth,
      payload: { first_name: 'Ada', last_name: 'Lovelace', phone: '0412 345 678' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'Ada Lovelace', phone: '+61412345678', phone_valid: true });
    expect(created.headers.etag).toBe('"1"');
    const id = created.json().id;
    const added = await h.request({
      method: 'POST',
      url: `/v1/groups/${group.json().id}/members`,
      headers: auth,
      payload: { contact_ids: [id] },
    });
    expect(added.json()).toEqual({ added: 1, already_members: 0, member_count: 1 });
    for (const url of [
      '/v1/contacts?q=lovel',
      '/v1/contacts?phone=%2B61%20412%20345%20678',
      `/v1/groups/${group.json().id}/members?sort=name`,
    ]) {
      const page = await h.request({ method: 'GET', url, headers: auth });
      expect(page.statusCode, url).toBe(200);
      expect(
        page.json().items.map((c: { id: string }) => c.id),
        url,
      ).toEqual([id]);
    }
  });

  it('hides one organisation’s contacts from another', async () => {
    const created = await h.request({
      method: 'POST',
      url: '/v1/contacts',
      headers: { authorization: h.a.owner.jwt },
      payload: { name: 'Secret', email: 'secret@example.com' },
    });
    const foreign = await h.request({
      method: 'GET',
      url: `/v1/contacts/${created.json().id}`,
      headers: { authorization: h.b.owner.basic },
    });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.body).not.toContain('Secret');
  });
});
