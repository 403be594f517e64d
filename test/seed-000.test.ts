import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

const LIST_KEYS = [
  'created_by_name',
  'date_created',
  'is_active',
  'last_updated',
  'translations',
  'unique_id',
];
const DETAIL_KEYS = [...LIST_KEYS, 'contacts_count', 'organisation_name'].sort();
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The document's detail example, read-only fields and all, as a client copying it sends it. */
const DOCUMENT_BODY = {
  unique_id: 'text',
  translations: 'text',
  organisation_name: 'text',
  created_by_name: 'text',
  is_active: true,
  contacts_count: 'text',
  date_created: '2025-10-25T20:11:49.043Z',
  last_updated: '2025-10-25T20:11:49.043Z',
};

/** Exactly the documented keys, each of the type the document (and the issue) gives it. */
function expectDetail(body: Record<string, unknown>) {
  expect(Object.keys(body).sort()).toEqual(DETAIL_KEYS);
  expect(body.unique_id).toMatch(UUID);
  expect(typeof body.translations).toBe('object');
  expect(typeof body.organisation_name).toBe('string');
  expect(typeof body.created_by_name).toBe('string');
  expect(typeof body.is_active).toBe('boolean');
  expect(typeof body.contacts_count).toBe('number');
  expect(body.date_created).toMatch(ISO_MS);
  expect(body.last_updated).toMatch(ISO_MS);
}

describe.each(dialects)('seed 000, organisation contact groups, on %s', (dialect) => {
  let h: Harness;
  let base: string;
  let basic: { authorization: string };

  beforeAll(async () => {
    h = await createHarness(dialect);
    base = `/api/v1.0/organisation/${h.a.org.id}/contact-groups`;
    basic = { authorization: h.a.owner.basic };
  });
  afterAll(() => h.close());

  const create = (payload: object, headers = basic) =>
    h.request({ method: 'POST', url: `${base}/create/`, headers, payload });

  it('creates a group from the document’s example body, taking a plain-string translation as the default-language name', async () => {
    const res = await create({
      unique_id: 'text',
      translations: 'Choir',
      is_active: true,
      created_by_name: 'text',
      date_created: '2025-10-25T20:11:49.043Z',
      last_updated: '2025-10-25T20:11:49.043Z',
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(DETAIL_KEYS);
    expect(body).toMatchObject({
      translations: { en: { name: 'Choir', description: null } },
      organisation_name: 'Acme',
      created_by_name: 'Acme-owner',
      is_active: true,
      contacts_count: 0,
    });
    expect(body.unique_id).not.toBe('text');
    expect(body.date_created).toMatch(ISO_MS);
    const v1 = await h.request({ method: 'GET', url: `/v1/groups/${body.unique_id}`, headers: basic });
    expect(v1.json()).toMatchObject({ name: 'Choir', translations: { en: { name: 'Choir' } } });
  });

  it('lists every group with exactly the list keys, with and without the trailing slash', async () => {
    await create({
      translations: { en: { name: 'Youth', description: 'Under 25' }, fr: { name: 'Jeunesse' } },
    });
    for (const url of [`${base}/`, base]) {
      const res = await h.request({ method: 'GET', url, headers: basic });
      expect(res.statusCode, url).toBe(200);
      const youth = res
        .json()
        .find((g: { translations: { en: { name: string } } }) => g.translations.en.name === 'Youth');
      expect(Object.keys(youth).sort()).toEqual(LIST_KEYS);
      expect(youth.translations).toEqual({
        en: { name: 'Youth', description: 'Under 25' },
        fr: { name: 'Jeunesse', description: null },
      });
    }
  });

  it('reads, replaces, patches and deletes a group, with changes visible through /v1 and the reverse', async () => {
    const id = (await create({ translations: 'Ushers' })).json().unique_id;
    const url = `${base}/${id}/`;
    const contact = await h.request({
      method: 'POST',
      url: '/v1/contacts',
      headers: basic,
      payload: { name: 'Member', phone: '0412 555 000' },
    });
    await h.request({
      method: 'POST',
      url: `/v1/groups/${id}/members`,
      headers: basic,
      payload: { contact_ids: [contact.json().id] },
    });

    const got = await h.request({ method: 'GET', url, headers: basic });
    expect(got.json()).toMatchObject({ unique_id: id, contacts_count: 1 });
    expect(typeof got.json().contacts_count).toBe('number');

    const put = await h.request({
      method: 'PUT',
      url: url.slice(0, -1),
      headers: basic,
      payload: { translations: { en: { name: 'Stewards' } }, is_active: false },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ translations: { en: { name: 'Stewards' } }, is_active: false });

    const patch = await h.request({ method: 'PATCH', url, headers: basic, payload: { is_active: true } });
    expect(patch.json()).toMatchObject({ translations: { en: { name: 'Stewards' } }, is_active: true });

    await h.request({
      method: 'PATCH',
      url: `/v1/groups/${id}`,
      headers: basic,
      payload: { name: 'Welcome team' },
    });
    expect((await h.request({ method: 'GET', url, headers: basic })).json().translations.en.name).toBe(
      'Welcome team',
    );

    const deleted = await h.request({ method: 'DELETE', url, headers: basic });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toMatchObject({ unique_id: id, translations: { en: { name: 'Welcome team' } } });
    expect((await h.request({ method: 'GET', url, headers: basic })).json()).toEqual({
      detail: 'Not found.',
    });
    expect((await h.request({ method: 'GET', url: `/v1/groups/${id}`, headers: basic })).statusCode).toBe(
      404,
    );
    expect(
      (await h.request({ method: 'GET', url: `/v1/contacts/${contact.json().id}`, headers: basic }))
        .statusCode,
    ).toBe(200);
  });

  it('answers every documented request, sent as written, with the documented status and keys', async () => {
    const created = await create(DOCUMENT_BODY);
    expect(created.statusCode).toBe(201);
    expectDetail(created.json());
    const url = `${base}/${created.json().unique_id}/`;
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE'] as const) {
      const res = await h.request({
        method,
        url,
        headers: basic,
        ...(method === 'PUT' || method === 'PATCH' ? { payload: DOCUMENT_BODY } : {}),
      });
      expect(res.statusCode, method).toBe(200);
      expectDetail(res.json());
      expect(res.json().unique_id, method).toBe(created.json().unique_id);
      expect(res.json().translations, method).toEqual({ en: { name: 'text', description: null } });
    }
    const list = await h.request({ method: 'GET', url: `${base}/`, headers: basic });
    expect(list.statusCode).toBe(200);
    expect(Array.isArray(list.json())).toBe(true);
    for (const item of list.json()) {
      expect(Object.keys(item).sort()).toEqual(LIST_KEYS);
      expect(item.date_created).toMatch(ISO_MS);
    }
  });

  it('serves every route with and without the trailing slash', async () => {
    const created = await h.request({
      method: 'POST',
      url: `${base}/create`,
      headers: basic,
      payload: { translations: 'No slash' },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().unique_id;
    for (const url of [`${base}/${id}`, `${base}/${id}/`]) {
      expect((await h.request({ method: 'GET', url, headers: basic })).statusCode, url).toBe(200);
      const patched = await h.request({
        method: 'PATCH',
        url,
        headers: basic,
        payload: { is_active: false },
      });
      expect(patched.statusCode, url).toBe(200);
    }
    expect((await h.request({ method: 'DELETE', url: `${base}/${id}`, headers: basic })).statusCode).toBe(
      200,
    );
  });

  it('answers a method a path does not serve with 405 and the methods it does', async () => {
    for (const [method, url, allow] of [
      ['POST', `${base}/`, 'GET'],
      ['GET', `${base}/create/`, 'POST'],
      ['POST', `${base}/00000000-0000-7000-8000-000000000000`, 'GET, PUT, PATCH, DELETE'],
    ] as const) {
      const res = await h.request({ method, url, headers: basic, payload: { translations: 'x' } });
      expect(res.statusCode, `${method} ${url}`).toBe(405);
      expect(res.headers.allow).toBe(allow);
      expect(res.json()).toEqual({ detail: `Method "${method}" not allowed.` });
    }
  });

  it('patches only the languages and fields sent, keeps is_active on a PUT without it, and keeps descriptions in step with /v1', async () => {
    const id = (
      await create({
        translations: { en: { name: 'Choir', description: 'Sunday' }, fr: { name: 'Chorale' } },
        is_active: false,
      })
    ).json().unique_id;
    const url = `${base}/${id}/`;
    const patched = await h.request({
      method: 'PATCH',
      url,
      headers: basic,
      payload: { translations: { fr: { description: 'Le dimanche' } } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().translations).toEqual({
      en: { name: 'Choir', description: 'Sunday' },
      fr: { name: 'Chorale', description: 'Le dimanche' },
    });
    const renamed = await h.request({
      method: 'PATCH',
      url,
      headers: basic,
      payload: { translations: 'Singers' },
    });
    expect(renamed.json().translations.en).toEqual({ name: 'Singers', description: 'Sunday' });

    await h.request({
      method: 'PATCH',
      url,
      headers: basic,
      payload: { translations: { en: { name: 'Singers', description: 'Saturday' } } },
    });
    const v1 = (await h.request({ method: 'GET', url: `/v1/groups/${id}`, headers: basic })).json();
    expect(v1).toMatchObject({ name: 'Singers', description: 'Saturday', is_active: false });
    await h.request({
      method: 'PATCH',
      url: `/v1/groups/${id}`,
      headers: basic,
      payload: { description: 'Daily' },
    });
    expect((await h.request({ method: 'GET', url, headers: basic })).json().translations.en.description).toBe(
      'Daily',
    );

    const put = await h.request({
      method: 'PUT',
      url,
      headers: basic,
      payload: { translations: { en: { name: 'Choir' }, de: { name: 'Chor' } } },
    });
    expect(put.json()).toMatchObject({
      is_active: false,
      translations: { en: { name: 'Choir', description: null }, de: { name: 'Chor', description: null } },
    });
    expect(put.json().translations.fr).toBeUndefined();

    const withoutDefault = await h.request({
      method: 'PUT',
      url,
      headers: basic,
      payload: { translations: { de: { name: 'Chor' } } },
    });
    expect(withoutDefault.json().translations).toEqual({
      en: { name: 'Choir', description: null },
      de: { name: 'Chor', description: null },
    });
  });

  it('shows groups made through /v1, with their member count', async () => {
    const v1 = await h.request({
      method: 'POST',
      url: '/v1/groups',
      headers: basic,
      payload: { name: 'Made in v1', description: 'canonical' },
    });
    const got = await h.request({ method: 'GET', url: `${base}/${v1.json().id}`, headers: basic });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({
      unique_id: v1.json().id,
      translations: { en: { name: 'Made in v1', description: 'canonical' } },
      contacts_count: 0,
      date_created: v1.json().created_at,
    });
  });

  it('accepts the core bearer credentials too', async () => {
    for (const authorization of [h.a.owner.jwt, h.a.owner.apiKey]) {
      expect(
        (await h.request({ method: 'GET', url: `${base}/`, headers: { authorization } })).statusCode,
      ).toBe(200);
    }
  });

  it('answers another organisation’s path exactly like a missing one', async () => {
    const id = (await create({ translations: 'Secret group' })).json().unique_id;
    const other = { authorization: h.b.owner.basic };
    const foreignOrg = await h.request({ method: 'GET', url: `${base}/`, headers: other });
    const missingOrg = await h.request({
      method: 'GET',
      url: `/api/v1.0/organisation/00000000-0000-7000-8000-000000000000/contact-groups/`,
      headers: other,
    });
    expect(foreignOrg.statusCode).toBe(404);
    expect(foreignOrg.json()).toEqual(missingOrg.json());
    const ownPathForeignGroup = await h.request({
      method: 'GET',
      url: `/api/v1.0/organisation/${h.b.org.id}/contact-groups/${id}/`,
      headers: other,
    });
    expect(ownPathForeignGroup.statusCode).toBe(404);
    expect(ownPathForeignGroup.json()).toEqual({ detail: 'Not found.' });
    // A bad body changes nothing: the organisation is looked up first, as Django looks the object up first.
    for (const method of ['PUT', 'PATCH', 'DELETE'] as const) {
      for (const payload of [{ translations: 'Hacked' }, { translations: null }]) {
        const res = await h.request({ method, url: `${base}/${id}/`, headers: other, payload });
        expect(res.statusCode, method).toBe(404);
        expect(res.json()).toEqual({ detail: 'Not found.' });
      }
    }
    const intact = await h.request({ method: 'GET', url: `${base}/${id}/`, headers: basic });
    expect(intact.json().translations.en.name).toBe('Secret group');
  });

  it('answers missing and wrong credentials the Django REST Framework way', async () => {
    const none = await h.request({ method: 'GET', url: `${base}/` });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
    expect(none.headers['www-authenticate']).toContain('Basic');
    const wrong = await h.request({
      method: 'GET',
      url: `${base}/`,
      headers: { authorization: 'Basic ' + Buffer.from('nobody:wrong').toString('base64') },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ detail: 'Invalid username/password.' });
    expect(wrong.headers['www-authenticate']).toContain('Basic');
  });

  it('refuses bad input with field errors and writes nothing', async () => {
    const before = (await h.request({ method: 'GET', url: `${base}/`, headers: basic })).json().length;
    const missing = await create({ is_active: true });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({ translations: ['This field is required.'] });
    const tooLong = await create({ translations: 'x'.repeat(101) });
    expect(tooLong.statusCode).toBe(400);
    expect(Object.keys(tooLong.json())).toEqual(['translations']);
    const wrongType = await create({ translations: 'Fine', is_active: 'yes' });
    expect(wrongType.statusCode).toBe(400);
    expect(Object.keys(wrongType.json())).toEqual(['is_active']);
    const refused: [unknown, string][] = [
      [{ translations: null }, 'This field may not be null.'],
      [{ translations: '' }, 'This field may not be blank.'],
      [{ translations: '   ' }, "The name in the organisation's default language is required."],
      [
        { translations: { fr: { name: 'Chorale' } } },
        "The name in the organisation's default language is required.",
      ],
      [
        { translations: 7 },
        'Expected a name or an object of {language: {name, description}}, but got number.',
      ],
      [[{ translations: 'In a list' }], 'Invalid data. Expected a dictionary, but got list.'],
    ];
    for (const [payload, message] of refused) {
      const res = await create(payload as object);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(Object.values(res.json()), JSON.stringify(payload)).toEqual([[message]]);
    }
    for (const translations of [
      {},
      { 'not a language': { name: 'x' } },
      { en: { description: 'no name' } },
    ]) {
      const res = await create({ translations });
      expect(res.statusCode, JSON.stringify(translations)).toBe(400);
      expect(Object.keys(res.json())).toEqual(['translations']);
    }
    const noBody = await h.request({ method: 'POST', url: `${base}/create/`, headers: basic });
    expect(noBody.json()).toEqual({ translations: ['This field is required.'] });
    const malformed = await h.request({
      method: 'POST',
      url: `${base}/create/`,
      headers: { ...basic, 'content-type': 'application/json' },
      payload: '{"translations":',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().detail).toMatch(/^JSON parse error/);
    const viewer = await h.a.addUser('viewer');
    const forbidden = await create({ translations: 'Nope' }, { authorization: viewer.basic });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toEqual({ detail: 'You do not have permission to perform this action.' });
    expect(
      (await h.request({ method: 'GET', url: `${base}/`, headers: { authorization: viewer.basic } }))
        .statusCode,
    ).toBe(200);
    expect((await h.request({ method: 'GET', url: `${base}/`, headers: basic })).json().length).toBe(before);
  });

  it('leaves a group untouched when a PUT or PATCH is refused', async () => {
    const group = (await create({ translations: { en: { name: 'Kept', description: 'as is' } } })).json();
    const url = `${base}/${group.unique_id}/`;
    const attempts = [
      { method: 'PUT' as const, payload: { is_active: false } },
      { method: 'PUT' as const, payload: { translations: { fr: { name: 'Gardé' } }, is_active: 'no' } },
      { method: 'PATCH' as const, payload: { translations: { de: { description: 'no name' } } } },
      { method: 'PATCH' as const, payload: { translations: '' } },
    ];
    for (const attempt of attempts) {
      const res = await h.request({ ...attempt, url, headers: basic });
      expect(res.statusCode, JSON.stringify(attempt)).toBe(400);
    }
    expect((await h.request({ method: 'GET', url, headers: basic })).json()).toEqual(group);
  });

  it('answers ids that are not UUIDs with "Not found."', async () => {
    for (const url of [
      '/api/v1.0/organisation/not-a-uuid/contact-groups/',
      `${base}/not-a-uuid/`,
      `${base}/12345/`,
    ]) {
      const res = await h.request({ method: 'GET', url, headers: basic });
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toEqual({ detail: 'Not found.' });
    }
  });

  it('lists its routes under their own tag in the OpenAPI document', async () => {
    const doc = (await h.request({ method: 'GET', url: '/openapi.json' })).json();
    const tag = ['Seed 000: organisation contact groups'];
    const documented = {
      '/api/v1.0/organisation/{unique_id}/contact-groups/create/': ['post'],
      '/api/v1.0/organisation/{unique_id}/contact-groups/': ['get'],
      '/api/v1.0/organisation/{unique_id}/contact-groups/{group_unique_id}/': [
        'get',
        'put',
        'patch',
        'delete',
      ],
    };
    for (const [path, methods] of Object.entries(documented)) {
      for (const method of methods) expect(doc.paths[path]?.[method]?.tags, `${method} ${path}`).toEqual(tag);
    }
  });
});
