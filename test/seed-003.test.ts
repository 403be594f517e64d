import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

describe.each(dialects)('seed 003, the SMS address-book API, on %s', (dialect) => {
  let h: Harness;
  let auth: { authorization: string };
  const call = (url: string, payload?: object, headers = auth) =>
    h.request({ method: 'POST', url, headers, ...(payload && { payload }) });
  const newBook = async (name: string) => (await call('/api/group/new', { name })).json().result.id as number;

  beforeAll(async () => {
    h = await createHarness(dialect);
    auth = { authorization: h.a.owner.apiKey };
  });
  afterAll(() => h.close());

  it('adds a contact as the document shows, reading the local number in the organisation’s country', async () => {
    const book = await newBook('Customers');
    const res = await call('/api/contact/new', {
      group_id: book,
      phone_number: '0412345678',
      first_name: 'John',
      last_name: 'Doe',
    });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json())).toEqual(['status', 'result']);
    expect(res.json()).toEqual({ status: 'success', result: { id: expect.any(Number) } });
    const id = res.json().result.id;

    const detail = await call('/api/contact/detail', { id: String(id) });
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toEqual({
      status: 'success',
      result: {
        contact: {
          id,
          first_name: 'John',
          last_name: 'Doe',
          company: '',
          phone_number: '61412345678',
          custom_1: '',
          custom_2: '',
          custom_3: '',
          custom_4: '',
        },
      },
    });

    const group = await call('/api/group/detail', { id: book });
    expect(group.json().result.group).toEqual({ id: book, name: 'Customers', contacts_count: 1 });
  });

  it('keeps custom fields in the contact’s custom attributes, visible through /v1, and edits only what is sent', async () => {
    const book = await newBook('Custom');
    const { id } = (
      await call('/api/contact/new', {
        group_id: String(book),
        phone_number: '0412 000 111',
        custom_1: 'Gold',
        custom_4: 'VIP',
      })
    ).json().result;
    const edit = await call('/api/contact/edit', { id, first_name: 'Jane' });
    expect(edit.json()).toEqual({ status: 'success', result: { id } });
    expect((await call('/api/contact/edit', { id: String(id), custom_2: 'Monthly' })).statusCode).toBe(200);
    const contact = (await call('/api/contact/detail', { id })).json().result.contact;
    expect(contact).toMatchObject({
      first_name: 'Jane',
      custom_1: 'Gold',
      custom_2: 'Monthly',
      custom_3: '',
      custom_4: 'VIP',
      phone_number: '61412000111',
    });

    const list = await h.request({ method: 'GET', url: '/v1/contacts?phone=0412000111', headers: auth });
    const v1 = list.json().items[0];
    expect(v1).toMatchObject({
      first_name: 'Jane',
      custom: { custom_1: 'Gold', custom_2: 'Monthly', custom_4: 'VIP' },
      phone: '+61412000111',
    });
    const patched = await h.request({
      method: 'PATCH',
      url: `/v1/contacts/${v1.id}`,
      headers: auth,
      payload: { company: 'ABC Inc.' },
    });
    expect(patched.statusCode).toBe(200);
    const byUuid = await h.request({ method: 'GET', url: `/v1/contacts/${v1.id}`, headers: auth });
    expect(byUuid.json()).toMatchObject({ first_name: 'Jane', company: 'ABC Inc.' });
    expect((await call('/api/contact/detail', { id })).json().result.contact.company).toBe('ABC Inc.');
  });

  it('moves a contact to one address book, out of every other, keeping counts exact in /v1', async () => {
    const books = [await newBook('From'), await newBook('Also'), await newBook('To')];
    const { id } = (
      await call('/api/contact/new', { group_id: books[0], phone_number: '0412 222 333' })
    ).json().result;
    const v1Groups = async () =>
      (await h.request({ method: 'GET', url: '/v1/groups?limit=100', headers: auth })).json().items as {
        id: string;
        name: string;
        member_count: number;
      }[];
    const also = (await v1Groups()).find((g) => g.name === 'Also')!;
    const contact = (
      await h.request({ method: 'GET', url: '/v1/contacts?phone=0412222333', headers: auth })
    ).json().items[0];
    const added = await h.request({
      method: 'POST',
      url: `/v1/groups/${also.id}/members`,
      headers: auth,
      payload: { contact_ids: [contact.id] },
    });
    expect(added.statusCode).toBe(200);

    expect((await call('/api/contact/edit', { id, group_id: String(books[2]) })).statusCode).toBe(200);
    const counts = await Promise.all(
      books.map(async (b) => (await call('/api/group/detail', { id: b })).json().result.group.contacts_count),
    );
    expect(counts).toEqual([0, 0, 1]);
    const byName = Object.fromEntries((await v1Groups()).map((g) => [g.name, g.member_count]));
    expect(byName).toMatchObject({ From: 0, Also: 0, To: 1 });
  });

  it('deletes a contact, after which its id is not found', async () => {
    const book = await newBook('Delete');
    const { id } = (await call('/api/contact/new', { group_id: book, phone_number: '0412 444 555' })).json()
      .result;
    expect((await call('/api/contact/delete', { id })).json()).toEqual({ status: 'success', result: { id } });
    expect((await call('/api/group/detail', { id: book })).json().result.group.contacts_count).toBe(0);
    const gone = await call('/api/contact/detail', { id });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({
      status: 'error',
      error: { code: 'not_found', message: expect.any(String) },
    });
  });

  it('lists, renames and deletes address books (Roster additions)', async () => {
    const book = await newBook('Rename me');
    expect((await call('/api/group/edit', { id: book, name: 'Renamed' })).statusCode).toBe(200);
    // PHP's json_encode([]) sends an empty array where an empty object is meant.
    const list = (
      await h.request({
        method: 'POST',
        url: '/api/group/list',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: '[]',
      })
    ).json();
    expect(list.status).toBe('success');
    expect(list.result.groups).toContainEqual({ id: book, name: 'Renamed', contacts_count: 0 });
    const bare = (await call('/api/group/list')).json().result;
    expect(Object.keys(bare)).toEqual(['groups', 'page', 'limit', 'total']);
    expect(bare).toMatchObject({ page: 1, limit: 100, total: list.result.total });
    const paged = (await call('/api/group/list', { page: 2, limit: 1 })).json().result;
    expect(paged.groups).toEqual([bare.groups[1]]);
    expect((await call('/api/group/delete', { id: book })).statusCode).toBe(200);
    expect((await call('/api/group/detail', { id: book })).statusCode).toBe(404);
  });

  it('refuses bad input in its own error shape, naming the field, and writes nothing', async () => {
    const book = await newBook('Bad input');
    const cases: [object, string][] = [
      [{ phone_number: '0412345679' }, 'group_id'],
      [{ group_id: book }, 'phone_number'],
      [{ group_id: book, phone_number: 'call me' }, 'phone_number'],
      [{ group_id: book, phone_number: '' }, 'phone_number'],
      [{ group_id: 'abc', phone_number: '0412345679' }, 'group_id'],
      [{ group_id: book, phone_number: '0412345679', first_name: 7 }, 'first_name'],
    ];
    for (const [payload, field] of cases) {
      const res = await call('/api/contact/new', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json()).toEqual({
        status: 'error',
        error: { code: 'invalid_parameter', message: expect.any(String), field },
      });
    }
    const blank = await call('/api/contact/new', { group_id: book, phone_number: '   ' });
    expect(blank.json().error.message).toBe('phone_number must not be empty');
    const unknownBook = await call('/api/contact/new', { group_id: 999999, phone_number: '0412345679' });
    expect(unknownBook.statusCode).toBe(404);
    expect(unknownBook.json().error.code).toBe('not_found');

    const detail = await call('/api/contact/detail', { id: 'abc' });
    expect(detail.statusCode).toBe(400);
    expect(detail.json().error).toEqual({
      code: 'invalid_parameter',
      message: 'id must be an integer or a string of digits',
      field: 'id',
    });
    const found = await h.request({ method: 'GET', url: '/v1/contacts?phone=0412345679', headers: auth });
    expect(found.json().items).toEqual([]);
    expect((await call('/api/group/detail', { id: book })).json().result.group.contacts_count).toBe(0);
  });

  it('answers a body that is not JSON with 400 in its own shape', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/contact/new',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"group_id": 1,',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      status: 'error',
      error: { code: 'invalid_request', message: expect.any(String) },
    });
  });

  it('leaves a contact untouched when an edit names an unknown address book', async () => {
    const book = await newBook('Stay');
    const { id } = (
      await call('/api/contact/new', { group_id: book, phone_number: '0412 101 202', first_name: 'Kept' })
    ).json().result;
    const res = await call('/api/contact/edit', { id, group_id: 999999, first_name: 'Lost' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
    expect((await call('/api/contact/detail', { id })).json().result.contact.first_name).toBe('Kept');
    expect((await call('/api/group/detail', { id: book })).json().result.group.contacts_count).toBe(1);
  });

  it('lets a viewer read but not write', async () => {
    const book = await newBook('Viewed');
    const { id } = (await call('/api/contact/new', { group_id: book, phone_number: '0412 303 404' })).json()
      .result;
    const viewer = { authorization: (await h.a.addUser('viewer')).jwt };
    expect((await call('/api/contact/detail', { id }, viewer)).statusCode).toBe(200);
    const res = await call('/api/contact/edit', { id, first_name: 'Nope' }, viewer);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('forbidden');
    expect((await call('/api/contact/detail', { id })).json().result.contact.first_name).toBe('');
  });

  it('answers a duplicate number with 409 naming phone_number', async () => {
    const book = await newBook('Dupes');
    await call('/api/contact/new', { group_id: book, phone_number: '0412 666 777' });
    const res = await call('/api/contact/new', { group_id: book, phone_number: '+61 412 666 777' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'duplicate', field: 'phone_number' });
    const other = (await call('/api/contact/new', { group_id: book, phone_number: '0412 666 778' })).json()
      .result.id;
    const edit = await call('/api/contact/edit', { id: other, phone_number: '0412666777' });
    expect(edit.statusCode).toBe(409);
    expect((await call('/api/contact/detail', { id: other })).json().result.contact.phone_number).toBe(
      '61412666778',
    );
  });

  it('hides other organisations’ contacts and address books behind the same 404 as a missing id', async () => {
    const book = await newBook('Private');
    const { id } = (
      await call('/api/contact/new', { group_id: book, phone_number: '0412 888 999', first_name: 'Secret' })
    ).json().result;
    const other = { authorization: h.b.owner.jwt };
    for (const [url, payload] of [
      ['/api/contact/detail', { id }],
      ['/api/contact/edit', { id, first_name: 'Hacked' }],
      ['/api/contact/delete', { id }],
      ['/api/group/detail', { id: book }],
      ['/api/contact/new', { group_id: book, phone_number: '2025550123' }],
    ] as const) {
      const res = await call(url, payload, other);
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toContain('Secret');
    }
    expect((await call('/api/contact/detail', { id })).json().result.contact.first_name).toBe('Secret');
  });

  it('requires a bearer credential', async () => {
    const res = await h.request({ method: 'POST', url: '/api/contact/detail', payload: { id: 1 } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({
      status: 'error',
      error: { code: 'unauthorized', message: expect.any(String) },
    });
    const wrong = await call('/api/contact/detail', { id: 1 }, { authorization: 'Bearer rst_nope' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('unauthorized');
    const jwt = await call('/api/group/list', {}, { authorization: h.a.owner.jwt });
    expect(jwt.statusCode).toBe(200);
  });

  it('lists its routes under their own tag in the OpenAPI document', async () => {
    const doc = (await h.request({ method: 'GET', url: '/openapi.json' })).json();
    const calls = ['new', 'detail', 'edit', 'delete'].flatMap((verb) => [
      `/api/contact/${verb}`,
      `/api/group/${verb}`,
    ]);
    for (const path of [...calls, '/api/group/list'])
      expect(doc.paths[path].post.tags, path).toEqual(['Seed 003: SMS address book']);
  });
});
