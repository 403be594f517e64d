import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLiveByPhones, listContactRows } from '../src/db/repositories/contacts.js';
import type { TenantScope } from '../src/db/scope.js';
import { DETAIL_LIMITS } from '../src/domain/contact-details.js';
import { dialects, raw } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';
import { planOf, statementsOf } from './support/plans.js';

/** Every detail field of a contact, as a caller writes them. */
const DETAILS = {
  title: 'Engineer',
  department: 'Analytical Engines',
  nickname: 'Countess',
  notes: 'Met at the Babbage salon.\n'.repeat(100),
  addresses: [{ label: 'home', street: '12 St James Square', locality: 'London', country: 'GB' }],
  dates: [
    { label: 'birthday', date: '1815-12-10' },
    { label: 'anniversary', date: '--07-08' },
  ],
  urls: [{ url: 'https://example.org/ada', label: 'profile' }],
};

describe.each(dialects)('contact details (numbers, addresses, dates, links) on %s', (dialect) => {
  let h: Harness;
  const send: Harness['a']['send'] = (...args) => h.a.send(...args);
  /** Numbers of Australia, tenant a's country: 0412 NNN NNN, read as +61412NNNNNN. */
  let next = 100_000;
  const number = () => {
    const digits = String(next++);
    return `0412 ${digits.slice(0, 3)} ${digits.slice(3)}`;
  };
  const e164 = (local: string) => `+61${local.replace(/\D/g, '').slice(1)}`;
  const create = (fields: Record<string, unknown>) => h.a.contact(fields);
  const get = async (id: string) => (await send('GET', `/v1/contacts/${id}`)).json();
  const numbers = (c: { phones: { number: string }[] }) => c.phones.map((p) => p.number);
  const setDuplicates = (allowed: boolean) =>
    send('PATCH', '/v1/organisation', { allow_duplicate_phones: allowed });

  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  it('creates and shows every field; phone and email are the primary entries', async () => {
    const [mobile, work] = [number(), number()];
    const created = await create({
      first_name: 'Ada',
      last_name: 'Lovelace',
      phones: [
        { number: work, label: 'work' },
        { number: mobile, label: 'mobile', primary: true },
      ],
      emails: [{ address: 'Ada@Example.org', label: 'home' }, { address: 'countess@example.org' }],
      ...DETAILS,
    });
    const shown = await get(created.id);
    expect(shown).toEqual(created);
    expect(shown).toMatchObject({
      ...DETAILS,
      phone: e164(mobile),
      phone_raw: mobile,
      email: 'ada@example.org',
      phones: [
        { number: e164(mobile), raw: mobile, valid: true, label: 'mobile', primary: true },
        { number: e164(work), raw: work, valid: true, label: 'work', primary: false },
      ],
      emails: [
        { address: 'ada@example.org', label: 'home', primary: true },
        { address: 'countess@example.org', label: null, primary: false },
      ],
    });
    // One number without a label says no more than phone: the list shows it all the same.
    const plain = await create({ name: 'Plain', phone: number() });
    expect(plain).toMatchObject({
      phones: [{ number: plain.phone, label: null, primary: true }],
      emails: [],
      addresses: [],
      dates: [],
      urls: [],
      title: null,
      notes: null,
    });
  });

  it('PATCH: phone alone replaces the primary number and keeps the others; phones replaces the list; null clears', async () => {
    const [a, b, c, d] = [number(), number(), number(), number()];
    const { id } = await create({
      name: 'Patched',
      phones: [{ number: a }, { number: b, label: 'home' }],
      emails: [{ address: 'one@example.org' }, { address: 'two@example.org' }],
      ...DETAILS,
    });
    const patch = async (body: object) => {
      const res = await send('PATCH', `/v1/contacts/${id}`, body);
      expect(res.statusCode, res.body).toBe(200);
      expect(await get(id)).toEqual(res.json());
      return res.json();
    };
    let now = await patch({ phone: c });
    expect(numbers(now)).toEqual([e164(c), e164(b)]);
    expect(now.phones[1].label).toBe('home');
    // The primary named by phone among the list given.
    now = await patch({ phones: [{ number: a }, { number: d, label: 'work' }], phone: d });
    expect(numbers(now)).toEqual([e164(d), e164(a)]);
    expect(now.phone).toBe(e164(d));
    now = await patch({ phones: [{ number: b }, { number: c }] });
    expect(numbers(now)).toEqual([e164(b), e164(c)]);
    now = await patch({ phone: null });
    expect(numbers(now)).toEqual([e164(c)]);
    expect(now.phone).toBe(e164(c));
    now = await patch({ email: 'three@example.org' });
    expect(now.emails.map((e: { address: string }) => e.address)).toEqual([
      'three@example.org',
      'two@example.org',
    ]);
    now = await patch({
      emails: [{ address: 'two@example.org' }, { address: 'four@example.org', primary: true }],
    });
    expect(now.email).toBe('four@example.org');
    // Empty parts are not kept: the address reads back as every export writes it.
    now = await patch({
      addresses: [{ label: null, locality: 'Paris', region: null, postal_code: '' }],
      dates: null,
      title: null,
    });
    expect(now.addresses).toStrictEqual([{ locality: 'Paris' }]);
    expect(now).toMatchObject({
      addresses: [{ locality: 'Paris' }],
      dates: [],
      title: null,
      urls: DETAILS.urls,
    });
    now = await patch({ phones: null, emails: null, urls: [] });
    expect(now).toMatchObject({ phone: null, phones: [], email: null, emails: [], urls: [] });
    // The numbers it gave up are free for another contact.
    expect((await send('POST', '/v1/contacts', { name: 'Taker', phones: [{ number: b }] })).statusCode).toBe(
      201,
    );
  });

  it('PUT: every field takes the given value or becomes empty; phone alone leaves one number', async () => {
    const [a, b, c] = [number(), number(), number()];
    const { id } = await create({ name: 'Put', phones: [{ number: a }, { number: b }], ...DETAILS });
    const put = await send('PUT', `/v1/contacts/${id}`, { name: 'Put', phone: c });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({
      phones: [{ number: e164(c) }],
      addresses: [],
      title: null,
      notes: null,
    });
    const both = await send('PUT', `/v1/contacts/${id}`, {
      name: 'Put',
      phone: a,
      phones: [{ number: b }, { number: a }],
    });
    expect(numbers(both.json())).toEqual([e164(a), e164(b)]);
  });

  it('finds a contact by any of its numbers and addresses (phone=, email=) and by nickname and other numbers (q)', async () => {
    const [primary, other] = [number(), number()];
    const { id } = await create({
      name: 'Findable Person',
      nickname: 'Zebedee',
      phones: [{ number: primary }, { number: other }],
      emails: [{ address: 'first@find.example' }, { address: 'second@find.example' }],
    });
    const ids = async (query: string) =>
      (await send('GET', `/v1/contacts?${query}`)).json().items.map((c: { id: string }) => c.id);
    expect(await ids(`phone=${encodeURIComponent(other)}`)).toEqual([id]);
    expect(await ids(`phone=${encodeURIComponent(e164(primary))}`)).toEqual([id]);
    expect(await ids('email=SECOND@find.example')).toEqual([id]);
    expect(await ids('email=first@find.example')).toEqual([id]);
    expect(await ids('q=zebed')).toEqual([id]);
    expect(await ids(`q=${e164(other).slice(1)}`)).toEqual([id]);
    expect(await ids(`q=${other.replace(/\D/g, '')}`)).toEqual([id]);
    // In a group too, and not once a number is gone.
    const group = await h.a.group({ name: 'Findable' }, [id]);
    expect(await ids(`group_id=${group.id}&phone=${encodeURIComponent(other)}&sort=name`)).toEqual([id]);
    await send('PATCH', `/v1/contacts/${id}`, { phones: [{ number: primary }], emails: null });
    expect(await ids(`phone=${encodeURIComponent(other)}`)).toEqual([]);
    expect(await ids('email=second@find.example')).toEqual([]);
    expect(await ids(`q=${e164(other).slice(1)}`)).toEqual([]);
  });

  it('keeps one live contact per number, whichever place either contact holds it in', async () => {
    const [a, b, c, d] = [number(), number(), number(), number()];
    const holder = await create({ name: 'Holder', phones: [{ number: a }, { number: b }] });
    const conflict = async (res: Awaited<ReturnType<typeof send>>, field: string) => {
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json()).toMatchObject({
        code: 'duplicate_phone',
        existing_contact_id: holder.id,
        errors: [{ field }],
      });
    };
    // Another's primary as a second number, another's second number as primary or second.
    await conflict(
      await send('POST', '/v1/contacts', { name: 'X', phones: [{ number: c }, { number: a }] }),
      'phones[1].number',
    );
    await conflict(await send('POST', '/v1/contacts', { name: 'X', phone: b }), 'phone');
    await conflict(
      await send('POST', '/v1/contacts', { name: 'X', phones: [{ number: c }, { number: b }] }),
      'phones[1].number',
    );
    const other = await create({ name: 'Other', phone: c });
    const patched = await send('PATCH', `/v1/contacts/${other.id}`, {
      phones: [{ number: c }, { number: e164(b) }],
    });
    await conflict(patched, 'phones[1].number');
    await conflict(await send('PATCH', `/v1/contacts/${other.id}`, { phone: b }), 'phone');
    expect(numbers(await get(other.id))).toEqual([e164(c)]);
    // A contact keeps its own numbers in any order.
    const reordered = await send('PATCH', `/v1/contacts/${holder.id}`, { phone: b });
    expect(numbers(reordered.json())).toEqual([e164(b), e164(a)]);

    // Restoring a contact whose second number another took meanwhile.
    const gone = await create({ name: 'Gone', phones: [{ number: d }, { number: number() }] });
    await send('DELETE', `/v1/contacts/${gone.id}`);
    const taker = await create({ name: 'Taker', phones: [{ number: number() }, { number: d }] });
    const restore = await send('POST', `/v1/contacts/${gone.id}/restore`);
    expect(restore.statusCode).toBe(409);
    expect(restore.json()).toMatchObject({ code: 'duplicate_phone', existing_contact_id: taker.id });
    await send('DELETE', `/v1/contacts/${taker.id}`);
    expect((await send('POST', `/v1/contacts/${gone.id}/restore`)).statusCode).toBe(200);

    // Allowed where the organisation allows duplicates; switching back is refused while they share one.
    await setDuplicates(true);
    const sharing = await send('POST', '/v1/contacts', {
      name: 'Sharer',
      phones: [{ number: c }, { number: b }],
    });
    expect(sharing.statusCode).toBe(201);
    const back = await setDuplicates(false);
    expect(back.statusCode).toBe(409);
    expect(back.json()).toMatchObject({ code: 'conflict' });
    // Other numbers only (no primary shared) are refused too.
    await send('PATCH', `/v1/contacts/${sharing.json().id}`, {
      phones: [{ number: number() }, { number: b }],
    });
    expect((await setDuplicates(false)).statusCode).toBe(409);
    await send('DELETE', `/v1/contacts/${sharing.json().id}`);
    expect((await setDuplicates(false)).statusCode).toBe(200);
  });

  it('gives a number to one of many contacts created at once holding it besides their primary one', async () => {
    const shared = number();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        send('POST', '/v1/contacts', {
          name: `Racer ${i}`,
          phones: [{ number: number() }, { number: shared }],
        }),
      ),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, ...Array(19).fill(409)]);
    const holders = (await send('GET', `/v1/contacts?phone=${encodeURIComponent(shared)}`)).json().items;
    expect(holders).toHaveLength(1);
  });

  it('refuses bad details with a 400 naming the field', async () => {
    const refused = async (body: object, field: string, status = 400) => {
      const res = await send('POST', '/v1/contacts', { name: 'Bad', ...body });
      expect(res.statusCode, res.body).toBe(status);
      expect(JSON.stringify(res.json().fields ?? res.json().errors)).toContain(field);
    };
    await refused({ dates: [{ label: 'birthday', date: '2023-02-29' }] }, 'dates[0].date');
    // A date of the wrong form (refused by the schema) and an impossible one (by the service) read alike.
    for (const date of ['2023/02/01', '2023-02-30']) {
      const res = await send('POST', '/v1/contacts', { name: 'Bad', dates: [{ label: 'birthday', date }] });
      expect(res.json().errors, date).toEqual([
        { field: 'dates[0].date', message: 'must be a date YYYY-MM-DD, or --MM-DD without a year' },
      ]);
    }
    await refused(
      {
        phones: [
          { number: number(), primary: true },
          { number: number(), primary: true },
        ],
      },
      'phones',
    );
    await refused({ phones: [{ number: number() }, { number: 'not a number' }] }, 'phones[1].number');
    await refused({ emails: [{ address: 'ok@example.org' }, { address: 'nope' }] }, 'emails[1].address');
    await refused({ addresses: [{ label: 'home' }] }, 'addresses[0]');
    const tooMany = Array.from({ length: DETAIL_LIMITS.phones + 1 }, () => ({ number: number() }));
    const many = await send('POST', '/v1/contacts', { name: 'Many', phones: tooMany });
    expect(many.statusCode).toBeGreaterThanOrEqual(400);
    expect(many.statusCode).toBeLessThan(500);
    expect(many.body).toContain('phones');
  });

  it('finds duplicates by a second number and address', async () => {
    await setDuplicates(true);
    const shared = number();
    const one = await create({ name: 'Dup One', phones: [{ number: number() }, { number: shared }] });
    const two = await create({ name: 'Dup Two', phones: [{ number: number() }, { number: shared }] });
    const three = await create({
      name: 'Dup Three',
      emails: [{ address: 'x@dup.example' }, { address: 'y@dup.example' }],
    });
    const four = await create({ name: 'Dup Four', email: 'y@dup.example' });
    const sets = (await send('GET', '/v1/duplicates?limit=1000')).json().items as {
      contact_ids: string[];
      reasons: { kind: string; value: string }[];
    }[];
    expect(sets).toContainEqual(
      expect.objectContaining({
        contact_ids: [one.id, two.id],
        reasons: [{ kind: 'phone', value: e164(shared) }],
      }),
    );
    expect(sets).toContainEqual(
      expect.objectContaining({
        contact_ids: [three.id, four.id],
        reasons: [{ kind: 'email', value: 'y@dup.example' }],
      }),
    );
    for (const c of [one, two, three, four]) await send('DELETE', `/v1/contacts/${c.id}`);
    await setDuplicates(false);
  });

  it('merges numbers, addresses, postal addresses, dates and links into the survivor, each once, and undoes it', async () => {
    const [a, b, c] = [number(), number(), number()];
    const survivor = await create({
      name: 'Merge Survivor',
      phones: [{ number: a, label: 'mobile' }],
      emails: [{ address: 'm1@merge.example' }],
      addresses: [{ locality: 'London' }],
      dates: [{ label: 'birthday', date: '1815-12-10' }],
      urls: [{ url: 'https://merge.example/a' }],
      title: 'Countess',
    });
    const other = await create({
      name: 'Merge Other',
      phones: [{ number: b }, { number: c, label: 'work' }],
      emails: [{ address: 'm2@merge.example' }, { address: 'm1@merge.example' }],
      addresses: [{ locality: 'London' }, { locality: 'Paris' }],
      dates: [
        { label: 'birthday', date: '1815-12-10' },
        { label: 'anniversary', date: '1835-07-08' },
      ],
      urls: [{ url: 'https://merge.example/b' }],
      nickname: 'Ada',
    });
    const body = { ids: [other.id] };
    const preview = await send('POST', `/v1/contacts/${survivor.id}/merge?dry_run=true`, body);
    const merged = await send('POST', `/v1/contacts/${survivor.id}/merge`, body);
    expect(merged.statusCode, merged.body).toBe(201);
    const contact = await get(survivor.id);
    expect(preview.json().contact).toMatchObject({ phones: contact.phones, addresses: contact.addresses });
    expect(contact).toMatchObject({
      phone: e164(a),
      phones: [
        { number: e164(a), label: 'mobile', primary: true },
        { number: e164(b), label: null },
        { number: e164(c), label: 'work' },
      ],
      emails: [{ address: 'm1@merge.example' }, { address: 'm2@merge.example' }],
      addresses: [{ locality: 'London' }, { locality: 'Paris' }],
      dates: [
        { label: 'birthday', date: '1815-12-10' },
        { label: 'anniversary', date: '1835-07-08' },
      ],
      urls: [{ url: 'https://merge.example/a' }, { url: 'https://merge.example/b' }],
      title: 'Countess',
      nickname: 'Ada',
    });
    expect((await send('GET', `/v1/contacts?phone=${encodeURIComponent(c)}`)).json().items).toHaveLength(1);

    const undone = await send('POST', `/v1/merges/${merged.json().id}/undo`);
    expect(undone.json().not_undone, undone.body).toEqual([]);
    expect(await get(survivor.id)).toMatchObject({
      phones: [{ number: e164(a) }],
      nickname: null,
      addresses: [{ locality: 'London' }],
    });
    expect(numbers(await get(other.id))).toEqual([e164(b), e164(c)]);
    const byC = (await send('GET', `/v1/contacts?phone=${encodeURIComponent(c)}`)).json().items;
    expect(byC.map((x: { id: string }) => x.id)).toEqual([other.id]);
  });

  it('keeps what the seed surfaces do not show when they edit a contact', async () => {
    const [a, b, c] = [number(), number(), number()];
    const seed003 = (url: string, payload: object) =>
      h.request({ method: 'POST', url, headers: { authorization: h.a.owner.apiKey }, payload });
    const book = (await seed003('/api/group/new', { name: 'Seeded' })).json().result.id;
    const added = await seed003('/api/contact/new', {
      group_id: book,
      first_name: 'Seeded',
      phone_number: a,
    });
    expect(added.statusCode, added.body).toBe(200);
    const key = added.json().result.id;
    const [{ id }] = (await send('GET', `/v1/contacts?phone=${encodeURIComponent(a)}`)).json().items;
    await send('PATCH', `/v1/contacts/${id}`, {
      phones: [{ number: a }, { number: b, label: 'home' }],
      emails: [{ address: 'seed1@example.org' }, { address: 'seed2@example.org' }],
      ...DETAILS,
    });
    const kept = { emails: (await get(id)).emails, ...DETAILS };
    // Seed 003 edits by its integer id: its edit names the number and the name only.
    const edit = await seed003('/api/contact/edit', { id: key, first_name: 'Renamed', phone_number: c });
    expect(edit.statusCode, edit.body).toBe(200);
    let now = await get(id);
    expect(now).toMatchObject({ first_name: 'Renamed', ...kept });
    expect(numbers(now)).toEqual([e164(c), e164(b)]);
    // Seed 001's update (PUT) of name and number.
    const objectId = (
      await h.request({
        method: 'GET',
        url: '/contact',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: JSON.stringify({ session_id: '', access_token: h.a.owner.jwt.slice('Bearer '.length) }),
      })
    )
      .json()
      .data.find((x: { name: string }) => x.name === 'Renamed')._id;
    const put = await h.request({
      method: 'PUT',
      url: `/contact/${objectId}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: JSON.stringify({
        session_id: '',
        access_token: h.a.owner.jwt.slice('Bearer '.length),
        name: 'Renamed Again',
        number: e164(a).slice(1),
      }),
    });
    expect(put.statusCode, put.body).toBe(200);
    now = await get(id);
    expect(now).toMatchObject({ name: 'Renamed Again', ...kept });
    expect(numbers(now)).toEqual([e164(a), e164(b)]);
  });
});

describe.each(dialects)('lookups by any number or address on %s', (dialect) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness(dialect);
    // Enough contacts, each with a second number and address, that a plan reading them all shows.
    const [url, org] = [h.database.ownerUrl ?? h.database.url, h.a.org.id];
    await raw(
      dialect,
      url,
      org,
      `with recursive n(i) as (select 1 union all select i + 1 from n where i < 10000)
       insert into contacts (organisation_id, id, display_name, sort_name, search_doc, created_at, updated_at,
         phone, phone_raw, phone_valid, email)
       select ?, 'plan-' || i, 'Person ' || i, 'person ' || i, 'person' || i, i, i,
         '+6141' || (3000000 + i), 'x', 1, 'p' || i || '@plan.example' from n`,
      [org],
    );
    for (const [kind, value] of [
      ['phone', `'+6141' || (4000000 + key)`],
      ['email', `'q' || key || '@plan.example'`],
    ])
      await raw(
        dialect,
        url,
        org,
        `insert into contact_handles (organisation_id, contact_key, kind, value)
         select organisation_id, key, '${kind}', ${value} from contacts where id like 'plan-%'`,
      );
    for (const statement of dialect === 'postgres'
      ? ['analyze contacts', 'analyze contact_handles']
      : ['analyze'])
      await raw(dialect, url, org, statement);
  });
  afterAll(() => h.close());

  it('reads two index ranges (primary and other numbers), never every contact, for phone=, email= and the identity check', async () => {
    const [row] = await raw(
      dialect,
      h.database.url,
      h.a.org.id,
      `select key from contacts where id = 'plan-500'`,
    );
    const key = Number(row!.key);
    const other = `+6141${4_000_000 + key}`;
    const cases: [string, (scope: TenantScope) => Promise<unknown[] | { items: unknown[] }>][] = [
      ['phone= by date', (scope) => listContactRows(scope, { phone: other }, 'created_at', 50)],
      ['phone= by name', (scope) => listContactRows(scope, { phone: '+61413000700' }, 'name', 50)],
      [
        'email=',
        (scope) =>
          listContactRows(scope, { email: `q${key}@plan.example` }, 'updated_at', 50, undefined, true),
      ],
      ['identity', (scope) => findLiveByPhones(scope, [other, '+61413000700'])],
    ];
    for (const [name, work] of cases) {
      const [statement] = await statementsOf(dialect, h.database, h.a.org.id, async (scope) => {
        const found = await work(scope);
        expect(Array.isArray(found) ? found : found.items, name).toHaveLength(name === 'identity' ? 2 : 1);
      });
      const plan = await planOf(dialect, h.database, h.a.org.id, statement!);
      expect(plan, name).toMatch(/contact_handles_value/);
      expect(plan, name).not.toMatch(
        dialect === 'postgres' ? /Seq Scan/ : /^SCAN (contacts|contact_handles)\b/m,
      );
    }
  });
});
