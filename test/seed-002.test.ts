import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness, type Login } from './support/harness.js';

const PATH = '/api/unified-communications/contact-groups';
const GROUP_KEYS = [
  'church',
  'contacts',
  'created_at',
  'id',
  'legacy_id',
  'manual_contacts',
  'name',
  'nextgen_legacy_id',
  'thumbnail',
  'updated_at',
  'user_ids',
];
const CONTACT_KEYS = [
  'avatar',
  'created_at',
  'email',
  'first_name',
  'id',
  'is_manual',
  'last_name',
  'legacy_id',
  'middle_name',
  'nextgen_legacy_id',
  'phone',
  'updated_at',
];

describe.each(dialects)('seed 002, unified-communications contact groups, on %s', (dialect) => {
  let h: Harness;
  let jwt: { authorization: string };
  let member: Login;
  const documented = () => ({
    user_ids: [member.user.id],
    manual_contacts: [
      {
        first_name: 'Grace',
        middle_name: 'B',
        last_name: 'Hopper',
        phone: '0412 111 222',
        email: 'grace@example.com',
      },
    ],
    legacy_id: 'L-1',
    nextgen_legacy_id: 'N-1',
    created_at: '2025-07-23T12:34:09.364Z',
    name: 'Choir',
    thumbnail: 'https://example.com/choir.png',
    church: h.a.org.id,
  });

  /** A group with no members, for tests about something else; its id. */
  const createGroup = async (name: string): Promise<string> =>
    (
      await h.request({ method: 'POST', url: PATH, headers: jwt, payload: { name, church: h.a.org.id } })
    ).json().id;

  beforeAll(async () => {
    h = await createHarness(dialect);
    jwt = { authorization: h.a.owner.jwt };
    member = await h.a.addUser('viewer', 'member');
  });
  afterAll(() => h.close());

  it('creates a group with users and manual contacts from the document’s example body', async () => {
    const res = await h.request({
      method: 'POST',
      url: PATH,
      headers: jwt,
      payload: { id: 'ignored', updated_at: '2000-01-01T00:00:00Z', ...documented() },
    });
    expect(res.statusCode).toBe(201);
    const group = res.json();
    expect(Object.keys(group).sort()).toEqual(GROUP_KEYS);
    expect(group).toMatchObject({
      user_ids: [member.user.id],
      manual_contacts: [
        {
          first_name: 'Grace',
          middle_name: 'B',
          last_name: 'Hopper',
          phone: '+61412111222',
          email: 'grace@example.com',
        },
      ],
      legacy_id: 'L-1',
      nextgen_legacy_id: 'N-1',
      created_at: '2025-07-23T12:34:09.364Z',
      name: 'Choir',
      thumbnail: 'https://example.com/choir.png',
      church: h.a.org.id,
    });
    expect(group.id).not.toBe('ignored');
    expect(group.contacts).toHaveLength(2);
    for (const c of group.contacts) expect(Object.keys(c).sort()).toEqual(CONTACT_KEYS);
    expect(group.contacts.map((c: { is_manual: boolean }) => c.is_manual).sort()).toEqual([false, true]);
    const v1 = await h.request({ method: 'GET', url: `/v1/groups/${group.id}`, headers: jwt });
    expect(v1.json()).toMatchObject({
      name: 'Choir',
      member_count: 2,
      external_ids: { legacy_id: 'L-1', nextgen_legacy_id: 'N-1' },
    });
  });

  it('answers the document’s GET, PUT, PATCH and list requests as written', async () => {
    const id = (await h.request({ method: 'POST', url: PATH, headers: jwt, payload: documented() })).json()
      .id;
    const expectGroupShape = (group: Record<string, unknown>) => {
      expect(Object.keys(group).sort()).toEqual(GROUP_KEYS);
      expect(group).toMatchObject({
        id: expect.any(String),
        user_ids: [member.user.id],
        manual_contacts: [expect.objectContaining({ phone: '+61412111222' })],
        created_at: expect.any(String),
        updated_at: expect.any(String),
        church: h.a.org.id,
      });
      for (const c of group.contacts as object[]) expect(Object.keys(c).sort()).toEqual(CONTACT_KEYS);
    };
    for (const method of ['GET', 'PUT', 'PATCH'] as const) {
      const res = await h.request({
        method,
        url: `${PATH}/${id}`,
        headers: { ...jwt, accept: '*/*' },
        ...(method !== 'GET' && { payload: documented() }),
      });
      expect(res.statusCode, method).toBe(200);
      expectGroupShape(res.json());
      expect(res.json().id).toBe(id);
    }
    const list = await h.request({ method: 'GET', url: PATH, headers: { ...jwt, accept: '*/*' } });
    expect(list.statusCode).toBe(200);
    expect(Object.keys(list.json()).sort()).toEqual(['count', 'next', 'previous', 'results']);
    expectGroupShape(list.json().results.find((g: { id: string }) => g.id === id));
  });

  it('keeps the creation time when created_at is null, and 404s an unknown or malformed id', async () => {
    const res = await h.request({
      method: 'POST',
      url: PATH,
      headers: jwt,
      payload: { name: 'Fresh', church: h.a.org.id, created_at: null },
    });
    expect(res.statusCode).toBe(201);
    expect(Date.parse(res.json().created_at)).toBeGreaterThan(Date.now() - 60_000);
    for (const url of [`${PATH}/not-a-uuid`, `${PATH}/123e4567-e89b-12d3-a456-426614174000`]) {
      const missing = await h.request({ method: 'GET', url, headers: jwt });
      expect(missing.statusCode, url).toBe(404);
      expect(missing.json()).toEqual({ detail: 'Not found.' });
    }
  });

  it('lets a viewer read but not write', async () => {
    const viewer = { authorization: member.jwt };
    expect((await h.request({ method: 'GET', url: PATH, headers: viewer })).statusCode).toBe(200);
    const res = await h.request({
      method: 'POST',
      url: PATH,
      headers: viewer,
      payload: { name: 'Nope', church: h.a.org.id },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ detail: 'You do not have permission to perform this action.' });
  });

  it.each([
    [
      'phone',
      { name: 'Ada', phone: '+61 412 333 444' },
      { first_name: 'Ada', phone: '0412333444' },
      'phone=0412333444',
    ],
    [
      'email',
      { name: 'Edsger', email: 'Edsger@Example.com' },
      { first_name: 'Edsger', email: 'edsger@example.com' },
      'email=edsger@example.com',
    ],
  ])(
    'reuses an existing contact with the same %s instead of duplicating it',
    async (_, known, manual, query) => {
      const existing = await h.request({ method: 'POST', url: '/v1/contacts', headers: jwt, payload: known });
      const res = await h.request({
        method: 'POST',
        url: PATH,
        headers: jwt,
        payload: { name: 'Reuse', church: h.a.org.id, manual_contacts: [manual] },
      });
      expect(res.json().contacts.map((c: { id: string }) => c.id)).toEqual([existing.json().id]);
      const all = await h.request({ method: 'GET', url: `/v1/contacts?${query}`, headers: jwt });
      expect(all.json().items).toHaveLength(1);
    },
  );

  it('replaces members with PUT and changes only what PATCH names', async () => {
    const id = (await h.request({ method: 'POST', url: PATH, headers: jwt, payload: documented() })).json()
      .id;
    const patched = await h.request({
      method: 'PATCH',
      url: `${PATH}/${id}`,
      headers: jwt,
      payload: { name: 'Renamed' },
    });
    expect(patched.json()).toMatchObject({ name: 'Renamed', user_ids: [member.user.id], legacy_id: 'L-1' });
    expect(patched.json().manual_contacts).toHaveLength(1);

    const noUsers = await h.request({
      method: 'PATCH',
      url: `${PATH}/${id}`,
      headers: jwt,
      payload: { user_ids: [] },
    });
    expect(noUsers.json().user_ids).toEqual([]);
    expect(noUsers.json().manual_contacts).toHaveLength(1);

    const put = await h.request({
      method: 'PUT',
      url: `${PATH}/${id}`,
      headers: jwt,
      payload: {
        name: 'Replaced',
        church: h.a.org.id,
        manual_contacts: ['Alan', 'Barbara', 'Claude'].map((first_name, i) => ({
          first_name,
          phone: `0412 999 00${i}`,
        })),
      },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ name: 'Replaced', user_ids: [], legacy_id: null, thumbnail: null });
    expect(put.json().manual_contacts.map((m: { first_name: string }) => m.first_name)).toEqual([
      'Alan',
      'Barbara',
      'Claude',
    ]);
    const grace = await h.request({
      method: 'GET',
      url: '/v1/contacts?email=grace@example.com',
      headers: jwt,
    });
    expect(grace.json().items).toHaveLength(1);
  });

  it('shows changes made through /v1 and deletes with 204 and no body', async () => {
    const id = await createGroup('Via v1');
    const contact = await h.request({
      method: 'POST',
      url: '/v1/contacts',
      headers: jwt,
      payload: { first_name: 'Linus', phone: '0412 123 999' },
    });
    await h.request({
      method: 'POST',
      url: `/v1/groups/${id}/members`,
      headers: jwt,
      payload: { contact_ids: [contact.json().id] },
    });
    const got = await h.request({ method: 'GET', url: `${PATH}/${id}`, headers: jwt });
    expect(got.json().contacts.map((c: { id: string }) => c.id)).toEqual([contact.json().id]);
    const deleted = await h.request({ method: 'DELETE', url: `${PATH}/${id}`, headers: jwt });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect((await h.request({ method: 'GET', url: `${PATH}/${id}`, headers: jwt })).json()).toEqual({
      detail: 'Not found.',
    });
  });

  it('paginates the Django REST Framework way', async () => {
    const fresh = await createHarness(dialect);
    try {
      const auth = { authorization: fresh.a.owner.jwt };
      const empty = await fresh.request({ method: 'GET', url: PATH, headers: auth });
      expect(empty.json()).toEqual({ count: 0, next: null, previous: null, results: [] });
      for (let i = 1; i <= 5; i++)
        await fresh.request({
          method: 'POST',
          url: PATH,
          headers: auth,
          payload: { name: `G${i}`, church: fresh.a.org.id },
        });
      const first = await fresh.request({
        method: 'GET',
        url: `${PATH}?page_size=2`,
        headers: { ...auth, host: 'api.example.org' },
      });
      expect(first.json()).toMatchObject({
        count: 5,
        previous: null,
        next: `http://api.example.org${PATH}?page_size=2&page=2`,
      });
      expect(first.json().results.map((g: { name: string }) => g.name)).toEqual(['G1', 'G2']);
      const last = await fresh.request({
        method: 'GET',
        url: `${PATH}?page=3&page_size=2`,
        headers: { ...auth, host: 'api.example.org' },
      });
      expect(last.json()).toMatchObject({
        next: null,
        previous: `http://api.example.org${PATH}?page=2&page_size=2`,
      });
      expect(last.json().results.map((g: { name: string }) => g.name)).toEqual(['G5']);
      const past = await fresh.request({ method: 'GET', url: `${PATH}?page=4&page_size=2`, headers: auth });
      expect(past.statusCode).toBe(404);
      expect(past.json()).toEqual({ detail: 'Invalid page.' });
      expect(
        (await fresh.request({ method: 'GET', url: `${PATH}?page=abc`, headers: auth })).statusCode,
      ).toBe(404);
      for (let i = 6; i <= 101; i++)
        await fresh.request({ method: 'POST', url: '/v1/groups', headers: auth, payload: { name: `G${i}` } });
      const capped = await fresh.request({
        method: 'GET',
        url: `${PATH}?page_size=1000`,
        headers: { ...auth, host: 'api.example.org' },
      });
      expect(capped.json().count).toBe(101);
      expect(capped.json().results).toHaveLength(100);
      expect(capped.json().next).toBe(`http://api.example.org${PATH}?page_size=1000&page=2`);
    } finally {
      await fresh.close();
    }
  });

  it('reads a page with the same number of queries however many groups and members it holds', async () => {
    const executor = Object.getPrototypeOf(h.store.db.getExecutor());
    const queriesFor = async (url: string) => {
      const spy = vi.spyOn(executor, 'executeQuery');
      try {
        expect((await h.request({ method: 'GET', url, headers: jwt })).statusCode).toBe(200);
        return spy.mock.calls.length;
      } finally {
        spy.mockRestore();
      }
    };
    const many = await h.request({ method: 'POST', url: PATH, headers: jwt, payload: documented() });
    await h.request({
      method: 'PATCH',
      url: `${PATH}/${many.json().id}`,
      headers: jwt,
      payload: {
        manual_contacts: Array.from({ length: 30 }, (_, i) => ({
          first_name: `M${i}`,
          email: `m${i}@example.com`,
        })),
      },
    });
    for (const name of ['Small 1', 'Small 2']) await createGroup(name);
    // On SQLite the token's user and session are read once after a write, then kept while nothing
    // is written: a first request reads them, so that every request counted below reads the same.
    await queriesFor(`${PATH}?page_size=1`);
    const one = await queriesFor(`${PATH}?page_size=1`);
    expect(one).toBeGreaterThan(0);
    expect(await queriesFor(`${PATH}?page_size=100`)).toBe(one);
    expect(await queriesFor(`${PATH}/${many.json().id}`)).toBeLessThanOrEqual(one);
  });

  it('lists every member of a page in the order they joined, however many the page holds', async () => {
    const fresh = await createHarness(dialect);
    try {
      const auth = { authorization: fresh.a.owner.jwt };
      // More members than one read of the list takes (200), split across the two groups.
      const sizes = [150, 120];
      const created = [];
      for (const [g, size] of sizes.entries()) {
        const manual = Array.from({ length: size }, (_, i) => ({ first_name: `G${g}M${i}` }));
        const payload = { name: `G${g}`, church: fresh.a.org.id, manual_contacts: manual };
        created.push(await fresh.request({ method: 'POST', url: PATH, headers: auth, payload }));
      }
      const page = await fresh.request({ method: 'GET', url: PATH, headers: auth });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toBe('application/json; charset=utf-8');
      const results = page.json().results;
      for (const [g, size] of sizes.entries()) {
        const names = Array.from({ length: size }, (_, i) => `G${g}M${i}`);
        expect(results[g].contacts.map((c: { first_name: string }) => c.first_name)).toEqual(names);
        expect(results[g].manual_contacts.map((c: { first_name: string }) => c.first_name)).toEqual(names);
        // The same group, read alone and as created, is the same text.
        const alone = await fresh.request({ method: 'GET', url: `${PATH}/${results[g].id}`, headers: auth });
        expect(alone.json()).toEqual(results[g]);
        expect(created[g]!.json()).toEqual(results[g]);
      }
    } finally {
      await fresh.close();
    }
  });

  it('answers every client listing at once with the whole page, as it answers one alone', async () => {
    await createGroup('Listed at once');
    const list = () => h.request({ method: 'GET', url: `${PATH}?page_size=100`, headers: jwt });
    const alone = (await list()).body;
    // More clients than pages are written at once: the others wait their turn, none is cut off.
    const together = await Promise.all(Array.from({ length: 12 }, list));
    expect(together.map((r) => r.statusCode)).toEqual(together.map(() => 200));
    expect(together.map((r) => r.body)).toEqual(together.map(() => alone));
    expect((await list()).body).toBe(alone);
  });

  it('refuses bad input field by field and writes nothing', async () => {
    const before = (await h.request({ method: 'GET', url: `${PATH}?page_size=100`, headers: jwt })).json()
      .count;
    const cases: [object, string][] = [
      [{ church: h.a.org.id }, 'name'],
      [{ name: 'x'.repeat(101), church: h.a.org.id }, 'name'],
      [{ name: 'Bad church', church: h.b.org.id }, 'church'],
      [{ name: 'Bad user', church: h.a.org.id, user_ids: [h.b.owner.user.id] }, 'user_ids'],
      [{ name: 'Bad thumb', church: h.a.org.id, thumbnail: 'not a uri' }, 'thumbnail'],
      [
        {
          name: 'Bad phone',
          church: h.a.org.id,
          manual_contacts: [
            { first_name: 'Ok', phone: '0412 555 666' },
            { first_name: 'Bad', phone: 'call me' },
          ],
        },
        'manual_contacts',
      ],
    ];
    for (const [payload, field] of cases) {
      const res = await h.request({ method: 'POST', url: PATH, headers: jwt, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(Object.keys(res.json()), JSON.stringify(payload)).toEqual([field]);
    }
    const unknownUser = await h.request({ method: 'POST', url: PATH, headers: jwt, payload: cases[3]![0] });
    expect(unknownUser.json()).toEqual({
      user_ids: [`Invalid pk "${h.b.owner.user.id}" - object does not exist.`],
    });
    expect(
      (await h.request({ method: 'GET', url: `${PATH}?page_size=100`, headers: jwt })).json().count,
    ).toBe(before);
    const ok = await h.request({ method: 'GET', url: '/v1/contacts?phone=0412555666', headers: jwt });
    expect(ok.json().items).toEqual([]);

    const id = await createGroup('Kept');
    for (const [method, payload] of [
      ['PUT', { name: 'Changed', church: h.a.org.id, user_ids: ['123e4567-e89b-12d3-a456-426614174000'] }],
      ['PATCH', { name: 'Changed', manual_contacts: [{ first_name: 'Bad', phone: 'call me' }] }],
      ['PATCH', { name: 'Changed', church: h.b.org.id }],
    ] as const) {
      const res = await h.request({ method, url: `${PATH}/${id}`, headers: jwt, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    expect((await h.request({ method: 'GET', url: `${PATH}/${id}`, headers: jwt })).json()).toMatchObject({
      name: 'Kept',
      contacts: [],
    });
  });

  it('keeps other organisations out and requires a token', async () => {
    const id = await createGroup('Private');
    const other = { authorization: h.b.owner.jwt };
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE'] as const) {
      const res = await h.request({
        method,
        url: `${PATH}/${id}`,
        headers: other,
        payload: { name: 'Hacked', church: h.b.org.id },
      });
      expect(res.statusCode, method).toBe(404);
      expect(res.json()).toEqual({ detail: 'Not found.' });
    }
    expect((await h.request({ method: 'GET', url: PATH, headers: other })).body).not.toContain('Private');
    const none = await h.request({ method: 'GET', url: PATH });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
    const bad = await h.request({ method: 'GET', url: PATH, headers: { authorization: 'Bearer not.a.jwt' } });
    expect(bad.json()).toEqual({ detail: 'Given token not valid for any token type' });
  });

  it('lists its routes under their own tag in the OpenAPI document', async () => {
    const doc = (await h.request({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.paths[PATH].get.tags).toEqual(['Seed 002: unified-communications contact groups']);
  });
});
