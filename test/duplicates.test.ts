import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duplicateKeys, duplicateScore, phoneKey } from '../src/domain/duplicates.js';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

interface Candidate {
  contact_ids: string[];
  size: number;
  score: number;
  reasons: { kind: string; value: string }[];
}

describe('duplicate keys (the domain rules)', () => {
  const source = {
    display_name: '',
    first_name: null,
    middle_name: null,
    last_name: null,
    company: null,
    phones: [],
    emails: [],
    external_ids: {},
  };

  it('reads Brazil’s ninth digit and Mexico’s old 1 as the same number, and leaves other numbers be', () => {
    expect(phoneKey('+5511987654321')).toBe(phoneKey('+551187654321'));
    expect(phoneKey('+5215512345678')).toBe(phoneKey('+525512345678'));
    expect(phoneKey('+551134567890')).toBe('+551134567890');
    expect(phoneKey('+61412345678')).toBe('+61412345678');
    expect(phoneKey('+5511987654321')).not.toBe(phoneKey('+5521987654321'));
  });

  it('normalises names for case, accents and spacing, and keys a name only with a company or an email domain', () => {
    const a = duplicateKeys({ ...source, display_name: 'Adá  LOVELACE', company: 'Analytical Engines Ltd.' });
    const b = duplicateKeys({
      ...source,
      first_name: 'ada',
      last_name: 'lovelace',
      company: 'analytical engines ltd',
    });
    expect(a).toEqual(b);
    expect(a).toEqual([{ kind: 'name_company', value: 'ada lovelace|analytical engines ltd' }]);
    expect(duplicateKeys({ ...source, display_name: 'Ada Lovelace' })).toEqual([]);
    // A display name that only stands in for the company is no name.
    expect(duplicateKeys({ ...source, display_name: 'Acme', company: 'Acme' })).toEqual([]);
    expect(duplicateKeys({ ...source, display_name: 'Ada', emails: ['ada@example.com'] })).toContainEqual({
      kind: 'name_email_domain',
      value: 'ada|example.com',
    });
  });

  it('scores independent evidence higher than any of it alone', () => {
    expect(duplicateScore(['email'])).toBe(0.9);
    expect(duplicateScore(['email', 'phone'])).toBe(0.99);
    expect(duplicateScore(['name_email_domain'])).toBe(0.6);
    expect(duplicateScore(['name_company', 'name_company'])).toBe(0.75);
  });
});

describe.each(dialects)('duplicate candidates on %s', (dialect) => {
  let h: Harness;
  let auth: { authorization: string };
  const create = async (fields: Record<string, unknown>) => (await h.a.contact(fields)).id;
  const candidates = async (query = '', headers = auth): Promise<Candidate[]> => {
    const items: Candidate[] = [];
    let cursor: string | null = null;
    do {
      const after: string = cursor ? `&cursor=${cursor}` : '';
      const res = await h.request({ method: 'GET', url: `/v1/duplicates?limit=2${query}${after}`, headers });
      expect(res.statusCode, res.body).toBe(200);
      items.push(...res.json().items);
      cursor = res.json().next_cursor;
    } while (cursor);
    return items;
  };
  const setOf = (items: Candidate[], ...ids: string[]) =>
    items.find((c) => ids.every((id) => c.contact_ids.includes(id)));

  beforeAll(async () => {
    h = await createHarness(dialect);
    auth = { authorization: h.a.owner.apiKey };
  });
  afterAll(() => h.close());

  it('finds each rule’s duplicates, once per set, with its score and reasons, a page at a time', async () => {
    const email = [
      await create({ name: 'Mail One', email: 'Same.Person@Example.com' }),
      await create({ name: 'Mail Two', email: 'same.person@example.com' }),
    ];
    const brazil = [
      await create({ name: 'Brasil A', phone: '+55 11 98765 4321' }),
      await create({ name: 'Brasil B', phone: '+55 11 8765 4321' }),
    ];
    const company = [
      await create({ name: 'Adá Lovelace', company: 'Analytical Engines' }),
      await create({ first_name: 'ada', last_name: 'LOVELACE', company: 'analytical  engines' }),
    ];
    const domain = [
      await create({ name: 'Grace Hopper', email: 'grace@navy.example' }),
      await create({ name: 'grace hopper', email: 'g.hopper@navy.example' }),
    ];
    const external = [
      await create({ name: 'Ext One', external_ids: { crm: '42' } }),
      await create({ name: 'Ext Two', external_ids: { crm: '42' } }),
    ];
    // Both an address and a number (after the ninth digit): one set, both reasons.
    const both = [
      await create({ name: 'Both A', phone: '+55 21 99999 1111', email: 'both@example.com' }),
      await create({ name: 'Both B', phone: '+55 21 9999 1111', email: 'BOTH@example.com' }),
    ];
    await create({ name: 'Alone', email: 'alone@example.com', phone: '0412 000 111' });

    const items = await candidates();
    const reasons = (ids: string[]) => setOf(items, ...ids)?.reasons.map((r) => r.kind);
    expect(reasons(email)).toEqual(['email']);
    expect(reasons(brazil)).toEqual(['phone']);
    expect(setOf(items, ...brazil)!.reasons[0]!.value).toBe('+551187654321');
    expect(reasons(company)).toEqual(['name_company']);
    expect(reasons(domain)).toEqual(['name_email_domain']);
    expect(reasons(external)).toEqual(['external_id']);
    expect(reasons(both)!.sort()).toEqual(['email', 'phone']);
    expect(setOf(items, ...both)!.score).toBe(0.99);
    expect(setOf(items, ...email)!.score).toBe(0.9);
    expect(setOf(items, ...domain)!.score).toBe(0.6);
    // Every set once, though the pages were of two and `both` shares two keys.
    expect(items).toHaveLength(6);
    for (const item of items) expect(item.size).toBe(2);

    const strong = await candidates('&min_score=0.8');
    expect(strong.map((c) => c.score).every((s) => s >= 0.8)).toBe(true);
    expect(setOf(strong, ...domain)).toBeUndefined();
    expect(setOf(strong, ...company)).toBeUndefined();
    expect(setOf(strong, ...both)).toBeDefined();
  });

  it('follows every write: an update, a delete and its restore, an import', async () => {
    const [one, two] = [
      await create({ name: 'Follow One', email: 'follow@example.com' }),
      await create({ name: 'Follow Two', email: 'follow@example.com' }),
    ];
    expect(setOf(await candidates(), one!, two!)).toBeDefined();
    const patched = await h.request({
      method: 'PATCH',
      url: `/v1/contacts/${two}`,
      headers: auth,
      payload: { email: 'other@example.com' },
    });
    expect(patched.statusCode).toBe(200);
    expect(setOf(await candidates(), one!, two!)).toBeUndefined();
    await h.request({
      method: 'PATCH',
      url: `/v1/contacts/${two}`,
      headers: auth,
      payload: { email: 'follow@example.com' },
    });
    expect(setOf(await candidates(), one!, two!)).toBeDefined();
    expect(
      (await h.request({ method: 'DELETE', url: `/v1/contacts/${two}`, headers: auth })).statusCode,
    ).toBe(204);
    expect(setOf(await candidates(), one!, two!)).toBeUndefined();
    expect(
      (await h.request({ method: 'POST', url: `/v1/contacts/${two}/restore`, headers: auth })).statusCode,
    ).toBe(200);
    expect(setOf(await candidates(), one!, two!)).toBeDefined();

    await h.a.imported('name,email,company\nImported Person,imported@example.com,\n', {
      query: 'mode=create',
    });
    const third = await create({ name: 'Imported Twin', email: 'IMPORTED@example.com' });
    const set = (await candidates()).find((c) => c.contact_ids.includes(third));
    expect(set?.reasons.map((r) => r.value)).toEqual(['imported@example.com']);
  });

  it('keeps organisations apart and lets every role read', async () => {
    const { id: foreign } = await h.b.contact({ name: 'Foreign', email: 'foreign@example.com' });
    await h.b.contact({ name: 'Foreign Twin', email: 'foreign@example.com' });
    const ofA = await candidates();
    expect(ofA.some((c) => c.contact_ids.includes(foreign))).toBe(false);
    const ofB = await candidates('', { authorization: h.b.owner.apiKey });
    expect(ofB).toHaveLength(1);
    expect(ofB[0]!.contact_ids).toContain(foreign);
    const viewer = await h.a.addUser('viewer', 'dup-viewer');
    expect(await candidates('', { authorization: viewer.apiKey })).toEqual(ofA);
  });

  it('refuses a cursor it did not hand out and a score out of range with a 400', async () => {
    for (const query of ['cursor=nonsense', 'min_score=2', 'limit=0']) {
      const res = await h.request({ method: 'GET', url: `/v1/duplicates?${query}`, headers: auth });
      expect(res.statusCode, query).toBe(400);
    }
  });
});
