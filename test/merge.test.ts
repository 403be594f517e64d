import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mostProtective } from '../src/domain/merge.js';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';
import { snapshot } from './support/snapshot.js';

describe('consent after a merge (the domain rule)', () => {
  it('is never less protective than any side: an unsubscribe anywhere wins, the latest one', () => {
    const entry = (status: 'subscribed' | 'unsubscribed', at: string, source = 'api') => ({
      status,
      at,
      source,
    });
    const statuses = [undefined, 'subscribed', 'unsubscribed'] as const;
    for (const a of statuses)
      for (const b of statuses)
        for (const c of statuses) {
          const sides = [a, b, c].map((status, i) => ({
            id: `c${i}`,
            consent: status ? { sms: entry(status, `2026-01-0${i + 1}T00:00:00.000Z`, `src${i}`) } : {},
          }));
          const { consent, from } = mostProtective(sides);
          const given = [a, b, c].filter(Boolean);
          if (given.includes('unsubscribed')) {
            expect(consent.sms?.status).toBe('unsubscribed');
            const latest = [a, b, c].lastIndexOf('unsubscribed');
            expect(from.sms).toBe(`c${latest}`);
            expect(consent.sms?.source).toBe(`src${latest}`);
          } else if (given.length > 0) expect(consent.sms?.status).toBe('subscribed');
          else expect(consent.sms).toBeUndefined();
        }
  });
});

describe.each(dialects)('merging contacts on %s', (dialect) => {
  let h: Harness;
  let auth: { authorization: string };
  const request: Harness['a']['send'] = (...args) => h.a.send(...args);
  const create = (fields: Record<string, unknown>) => h.a.contact(fields);
  const group = async (name: string, ids: string[]) => (await h.a.group({ name }, ids)).id;
  const memberCount = async (id: string) => (await request('GET', `/v1/groups/${id}`)).json().member_count;
  const members = async (id: string) =>
    (await request('GET', `/v1/groups/${id}/members?limit=1000`))
      .json()
      .items.map((c: { id: string }) => c.id);
  const merge = (survivor: string, body: object, headers?: Record<string, string>) =>
    request('POST', `/v1/contacts/${survivor}/merge`, body, headers);

  beforeAll(async () => {
    h = await createHarness(dialect);
    auth = { authorization: h.a.owner.apiKey };
  });
  afterAll(() => h.close());

  it('merges fields (the survivor’s, then the others’ in order, or as chosen), custom fields, external ids, consent and memberships', async () => {
    const survivor = await create({
      first_name: 'Ada',
      last_name: 'Lovelace',
      phone: '0412 111 222',
      custom: { tier: 'gold', city: 'London' },
      external_ids: { crm: '1' },
      consent: { sms: 'subscribed', email: 'subscribed' },
    });
    const second = await create({
      name: 'ada lovelace',
      company: 'Analytical Engines',
      email: 'ada@example.com',
      phone: '0412 333 444',
      custom: { tier: 'silver', shoe: 38 },
      external_ids: { crm: '2', legacy: 'L-9' },
      consent: { sms: { status: 'unsubscribed', source: 'sms:STOP' } },
    });
    const third = await create({ name: 'A. L.', language: 'en', consent: { whatsapp: 'subscribed' } });
    const both = await group('Both', [survivor.id, second.id]);
    const onlySecond = await group('Only second', [second.id]);
    const onlyThird = await group('Only third', [third.id]);

    const res = await merge(survivor.id, { ids: [second.id, third.id], fields: { phone: second.id } });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(res.headers.location).toBe(`/v1/merges/${body.id}`);
    expect(body).toMatchObject({
      contact_id: survivor.id,
      merged_ids: [second.id, third.id],
      fields: {
        name: survivor.id,
        phone: second.id,
        company: second.id,
        email: second.id,
        language: third.id,
      },
      consent_from: { sms: second.id, email: survivor.id, whatsapp: third.id },
      undone_at: null,
      not_undone: null,
    });
    expect(body.groups_added.sort()).toEqual([onlySecond, onlyThird].sort());
    const contact = (await request('GET', `/v1/contacts/${survivor.id}`)).json();
    expect(contact).toMatchObject({
      name: 'Ada Lovelace',
      first_name: 'Ada',
      company: 'Analytical Engines',
      email: 'ada@example.com',
      phone: '+61412333444',
      language: 'en',
      custom: { tier: 'gold', city: 'London', shoe: 38 },
      external_ids: { crm: '1', legacy: 'L-9' },
      version: survivor.version + 1,
    });
    expect(contact.consent.sms).toMatchObject({ status: 'unsubscribed', source: 'sms:STOP' });
    expect(contact.consent.email.status).toBe('subscribed');
    expect(contact.consent.whatsapp.status).toBe('subscribed');
    expect(body.contact).toEqual(contact);

    for (const g of [both, onlySecond, onlyThird]) {
      expect(await members(g)).toEqual([survivor.id]);
      expect(await memberCount(g)).toBe(1);
    }
    expect((await request('GET', `/v1/merges/${body.id}`)).json()).toEqual({ ...body, contact: undefined });
  });

  it('answers a merged id with a 404 naming the survivor on /v1, and each seed surface with its own not-found', async () => {
    const survivor = await create({ name: 'Seed Survivor', phone: '0412 555 001' });
    const hex = await h.request({
      method: 'POST',
      url: '/contact',
      headers: auth,
      payload: { name: 'Seed Hex', number: '+61412555002' },
    });
    const book = (
      await h.request({
        method: 'POST',
        url: '/api/group/new',
        headers: auth,
        payload: { name: 'Seed book' },
      })
    ).json().result.id;
    const int = await h.request({
      method: 'POST',
      url: '/api/contact/new',
      headers: auth,
      payload: { group_id: book, phone_number: '0412 555 003' },
    });
    expect([hex.statusCode, int.statusCode], hex.body + int.body).toEqual([200, 200]);
    const merged = (await request('GET', '/v1/contacts?phone=%2B61412555002')).json().items[0].id;
    const mergedInt = (await request('GET', '/v1/contacts?phone=0412555003')).json().items[0].id;
    expect((await merge(survivor.id, { ids: [merged, mergedInt] })).statusCode).toBe(201);

    for (const id of [merged, mergedInt]) {
      const gone = await request('GET', `/v1/contacts/${id}`);
      expect(gone.statusCode).toBe(404);
      expect(gone.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(gone.json()).toMatchObject({ code: 'not_found', merged_into: survivor.id });
      expect((await request('PATCH', `/v1/contacts/${id}`, { company: 'x' })).json().merged_into).toBe(
        survivor.id,
      );
      const restore = await request('POST', `/v1/contacts/${id}/restore`);
      expect(restore.statusCode).toBe(409);
      expect(restore.json().merged_into).toBe(survivor.id);
    }
    const seed001 = await h.request({ method: 'GET', url: `/contact/${hex.json().data._id}`, headers: auth });
    expect(seed001.statusCode).toBe(404);
    expect(seed001.json()).toEqual({ status: false, message: expect.any(String) });
    const seed003 = await h.request({
      method: 'POST',
      url: '/api/contact/detail',
      headers: auth,
      payload: { id: int.json().result.id },
    });
    expect(seed003.statusCode).toBe(404);
    expect(seed003.json()).toEqual({
      status: 'error',
      error: { code: 'not_found', message: expect.any(String) },
    });
    // Seed 003's address book counts its members: the merged one left it, the survivor joined it.
    const detail = await h.request({
      method: 'POST',
      url: '/api/group/detail',
      headers: auth,
      payload: { id: book },
    });
    expect(detail.json().result.group.contacts_count).toBe(1);
  });

  it('previews a merge with dry_run: what the merge would do, the contact as it would be, nothing written', async () => {
    const survivor = await create({ name: 'Preview Survivor', consent: { sms: 'subscribed' } });
    const other = await create({
      name: 'preview survivor',
      email: 'preview@example.com',
      consent: { sms: { status: 'unsubscribed', source: 'sms:STOP' } },
    });
    const joined = await group('Preview group', [other.id]);
    const before = await snapshot(h);
    const ifMatch = (version: number) => ({ ...auth, 'if-match': `"${version}"` }) as never;
    const url = `/v1/contacts/${survivor.id}/merge?dry_run=true`;
    const stale = await request('POST', url, { ids: [other.id] }, ifMatch(99));
    expect(stale.statusCode).toBe(412);
    const preview = await request('POST', url, { ids: [other.id] }, ifMatch(survivor.version));
    expect(preview.statusCode, preview.body).toBe(200);
    expect(preview.headers.location).toBeUndefined();
    const body = preview.json();
    expect(Object.keys(body).sort()).toEqual(
      ['consent_from', 'contact', 'contact_id', 'fields', 'groups_added', 'merged_ids'].sort(),
    );
    expect(body).toMatchObject({
      contact_id: survivor.id,
      merged_ids: [other.id],
      fields: { name: survivor.id, email: other.id },
      consent_from: { sms: other.id },
      groups_added: [joined],
      contact: { email: 'preview@example.com', consent: { sms: { status: 'unsubscribed' } } },
    });
    expect(await snapshot(h)).toEqual(before);

    const done = await merge(survivor.id, { ids: [other.id] });
    expect(done.statusCode).toBe(201);
    const withoutTime = ({ updated_at: _, ...rest }: Record<string, unknown>) => rest;
    expect(withoutTime(done.json().contact)).toEqual(withoutTime(body.contact));
  });

  it('checks If-Match on the survivor and refuses bad requests with a 4xx that writes nothing', async () => {
    const survivor = await create({ name: 'Checked', email: 'checked@example.com' });
    const other = await create({ name: 'Checked Twin', email: 'checked@example.com' });
    const before = await snapshot(h);
    const stale = await merge(survivor.id, { ids: [other.id] }, { 'if-match': '"99"' });
    expect(stale.statusCode).toBe(412);
    const cases: [object, number][] = [
      [{ ids: [] }, 400],
      [{ ids: [survivor.id] }, 400],
      [{ ids: [other.id, other.id] }, 400],
      [{ ids: ['not-a-uuid'] }, 400],
      [{ ids: ['01900000-0000-7000-8000-000000000000'] }, 400],
      [{ ids: [other.id], fields: { phone: '01900000-0000-7000-8000-000000000000' } }, 400],
      [{ ids: [other.id], fields: { custom: other.id } }, 400],
      [{ ids: [other.id], extra: 1 }, 400],
    ];
    for (const [body, status] of cases) {
      const res = await merge(survivor.id, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
    }
    expect((await merge('01900000-0000-7000-8000-000000000000', { ids: [other.id] })).statusCode).toBe(404);
    expect(await snapshot(h)).toEqual(before);
    const ok = await merge(survivor.id, { ids: [other.id] }, { 'if-match': `"${survivor.version}"` });
    expect(ok.statusCode).toBe(201);
  });

  it('lets editors and above merge and undo, viewers only read, and keeps organisations apart', async () => {
    const [one, two, three] = [
      await create({ name: 'Role One' }),
      await create({ name: 'Role Two' }),
      await create({ name: 'Role Three' }),
    ];
    const viewer = await h.a.addUser('viewer', 'merge-viewer');
    const editor = await h.a.addUser('editor', 'merge-editor');
    expect((await merge(one!.id, { ids: [two!.id] }, { authorization: viewer.apiKey })).statusCode).toBe(403);
    const done = await merge(one!.id, { ids: [two!.id] }, { authorization: editor.apiKey });
    expect(done.statusCode).toBe(201);
    const id = done.json().id;
    expect(
      (await request('GET', `/v1/merges/${id}`, undefined, { authorization: viewer.apiKey })).statusCode,
    ).toBe(200);
    expect(
      (await request('POST', `/v1/merges/${id}/undo`, undefined, { authorization: viewer.apiKey }))
        .statusCode,
    ).toBe(403);
    const b = { authorization: h.b.owner.apiKey };
    expect((await merge(one!.id, { ids: [three!.id] }, b)).statusCode).toBe(404);
    expect((await request('GET', `/v1/merges/${id}`, undefined, b)).statusCode).toBe(404);
    expect((await request('POST', `/v1/merges/${id}/undo`, undefined, b)).statusCode).toBe(404);
    const own = (
      await h.request({ method: 'POST', url: '/v1/contacts', headers: b, payload: { name: 'B own' } })
    ).json();
    expect((await merge(own.id, { ids: [three!.id] }, b)).statusCode).toBe(400);
    expect(
      (await request('POST', `/v1/merges/${id}/undo`, undefined, { authorization: editor.apiKey }))
        .statusCode,
    ).toBe(200);
  });

  it('undoes a merge: every contact, membership, consent and field as it was', async () => {
    const survivor = await create({
      name: 'Undo Me',
      email: 'undo@example.com',
      consent: { sms: 'subscribed' },
    });
    const other = await create({
      name: 'Undo Me',
      email: 'UNDO@example.com',
      phone: '0412 777 001',
      consent: { sms: 'unsubscribed', email: 'subscribed' },
    });
    const g1 = await group('Undo both', [survivor.id, other.id]);
    const g2 = await group('Undo other', [other.id]);
    const before = await snapshot(h);
    const duplicatesBefore = (await request('GET', '/v1/duplicates?limit=1000')).json();
    const done = await merge(survivor.id, { ids: [other.id], fields: { phone: other.id } });
    expect(done.statusCode).toBe(201);
    expect(await memberCount(g2)).toBe(1);
    const undone = await request('POST', `/v1/merges/${done.json().id}/undo`);
    expect(undone.statusCode, undone.body).toBe(200);
    expect(undone.json()).toMatchObject({ not_undone: [], undone_at: expect.any(String) });
    const contactsNow = Object.fromEntries(
      await Promise.all(
        [survivor.id, other.id].map(async (id) => [id, (await request('GET', `/v1/contacts/${id}`)).json()]),
      ),
    );
    expect(contactsNow[survivor.id]).toMatchObject({
      name: 'Undo Me',
      phone: null,
      email: 'undo@example.com',
    });
    expect(contactsNow[survivor.id].consent.sms.status).toBe('subscribed');
    expect(contactsNow[survivor.id].consent.email).toBeUndefined();
    expect(contactsNow[other.id]).toMatchObject({ phone: '+61412777001', deleted_at: null });
    expect(contactsNow[other.id].consent.sms.status).toBe('unsubscribed');
    expect((await members(g1)).sort()).toEqual([survivor.id, other.id].sort());
    expect(await members(g2)).toEqual([other.id]);
    expect([await memberCount(g1), await memberCount(g2)]).toEqual([2, 1]);
    expect((await request('GET', '/v1/duplicates?limit=1000')).json()).toEqual(duplicatesBefore);
    // Only versions, update times, the merge's own record and the change log (which keeps the
    // merge and its undo) differ from before the merge.
    const comparable = (lines: string[]) =>
      lines
        .filter((l) => !/^(merges|changes|change_counters) /.test(l))
        .map((l) => l.replace(/"(version|updated_at)":\d+/g, ''));
    expect(comparable(await snapshot(h))).toEqual(comparable(before));
    expect((await request('POST', `/v1/merges/${done.json().id}/undo`)).statusCode).toBe(409);
  });

  it('leaves what changed since the merge and lists it', async () => {
    const survivor = await create({ name: 'Changed Later', email: 'later@example.com' });
    const other = await create({ name: 'Changed Later', phone: '0412 888 001' });
    const done = await merge(survivor.id, { ids: [other.id], fields: { phone: other.id } });
    const patched = await request('PATCH', `/v1/contacts/${survivor.id}`, { company: 'Since' });
    expect(patched.statusCode).toBe(200);
    const undone = (await request('POST', `/v1/merges/${done.json().id}/undo`)).json();
    // The survivor keeps the number it took, so the other cannot have it back either.
    expect(undone.not_undone).toEqual([
      { contact_id: survivor.id, reason: expect.stringContaining('changed since') },
      { contact_id: other.id, reason: expect.stringContaining('belongs to contact') },
    ]);
    expect((await request('GET', `/v1/contacts/${survivor.id}`)).json()).toMatchObject({
      company: 'Since',
      phone: '+61412888001',
    });
    expect((await request('GET', `/v1/contacts/${other.id}`)).json().merged_into).toBe(survivor.id);
  });

  it('lets one of two concurrent merges of overlapping sets win; the other gets 409 or 412', async () => {
    for (let round = 0; round < 3; round++) {
      const [s, t, x] = [
        await create({ name: `Race S ${round}` }),
        await create({ name: `Race T ${round}` }),
        await create({ name: `Race X ${round}` }),
      ];
      const pairs =
        round === 0
          ? [merge(s!.id, { ids: [x!.id] }), merge(t!.id, { ids: [x!.id] })]
          : [merge(s!.id, { ids: [t!.id] }), merge(t!.id, { ids: [s!.id] })];
      const statuses = (await Promise.all(pairs)).map((r) => r.statusCode).sort();
      expect(statuses[0]).toBe(201);
      expect([409, 412]).toContain(statuses[1]);
      const live = (await request('GET', `/v1/contacts?q=race&limit=100`))
        .json()
        .items.filter((c: { name: string }) => c.name.endsWith(` ${round}`));
      expect(live).toHaveLength(2);
    }
  });
});
