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
    const contact = (await call('/api/contact/detail', { id })).json().result.contact;
    expect(contact).toMatchObject({
      first_name: 'Jane',
      custom_1: 'Gold',
      custom_4: 'VIP',
      phone_number: '61412000111',
    });

    const list = await h.request({ method: 'GET', url: '/v1/contacts?phone=0412000111', headers: auth });
    const v1 = list.json().items[0];
    expect(v1).toMatchObject({
      first_name: 'Jane',
      custom: { custom_1: 'Gold', custom_4: 'VIP' },
      phone: '+61412000111',
    });
    const patched = await h.request({
      method: 'PATCH',
      url: `/v1/contacts/${v1.id}`,
      headers: auth,
      payload: { company: 'ABC Inc.' },
    });
    expect(patched.statusCode).toBe(200);
    expect((await call('/api/contact/detail', { id })).json().result.contact.company).toBe('ABC Inc.');
  });

  it('moves a contact between address books, keeping counts exact', async () => {
    const from = await newBook('From');
    const to = await newBook('To');
    const { id } = (await call('/api/contact/new', { group_id: from, phone_number: '0412 222 333' })).json()
      .result;
    expect((await call('/api/contact/edit', { id, group_id: to })).statusCode).toBe(200);
    const counts = await Promise.all(
      [from, to].map(
        async (b) => (await call('/api/group/detail', { id: b })).json().result.group.contacts_count,
      ),
    );
    expect(counts).toEqual([0, 1]);
    const groups = (await h.request({ method: 'GET', url: '/v1/groups?limit=100', headers: auth })).json()
      .items;
    expect(groups.find((g: { name: string }) => g.name === 'To').member_count).toBe(1);
  });

  it('deletes a contact, after which its id is not found', async () => {
    const book = await newBook('Delete');
    const { id } = (await call('/api/contact/new', { group_id: book, phone_number: '0412 444 555' })).json()
      .result;
    expect((await call('/api/contact/delete', { id })).json()).toEqual({ status: 'success', result: { id } });
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
    const list = (await call('/api/group/list')).json();
    expect(list.status).toBe('success');
    expect(list.result.groups).toContainEqual({ id: book, name: 'Renamed', contacts_count: 0 });
    expect((await call('/api/group/delete', { id: book })).statusCode).toBe(200);
    expect((await call('/api/group/detail', { id: book })).statusCode).toBe(404);
  });

  it('refuses bad input in its own error shape and writes nothing', async () => {
    const book = await newBook('Bad input');
    const cases: [object, number, string | undefined][] = [
      [{ phone_number: '0412345679' }, 400, 'group_id'],
      [{ group_id: book, phone_number: 'call me' }, 400, 'phone_number'],
      [{ group_id: 'abc', phone_number: '0412345679' }, 400, undefined],
      [{ group_id: 999999, phone_number: '0412345679' }, 404, undefined],
    ];
    for (const [payload, status, field] of cases) {
      const res = await call('/api/contact/new', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.json().status).toBe('error');
      if (field) expect(res.json().error.field).toBe(field);
    }
    const detail = await call('/api/contact/detail', { id: 'abc' });
    expect(detail.statusCode).toBe(400);
    const found = await h.request({ method: 'GET', url: '/v1/contacts?phone=0412345679', headers: auth });
    expect(found.json().items).toEqual([]);
  });

  it('answers a duplicate number with 409 naming phone_number', async () => {
    const book = await newBook('Dupes');
    await call('/api/contact/new', { group_id: book, phone_number: '0412 666 777' });
    const res = await call('/api/contact/new', { group_id: book, phone_number: '+61 412 666 777' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'duplicate', field: 'phone_number' });
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
  });

  it('lists its routes under their own tag in the OpenAPI document', async () => {
    const doc = (await h.request({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.paths['/api/contact/new'].post.tags).toEqual(['Seed 003: SMS address book']);
  });
});
