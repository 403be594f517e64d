import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrator } from '../src/db/migrate.js';
import { listContactRows, prefixEnd } from '../src/db/repositories/contacts.js';
import type { Database } from '../src/db/schema.js';
import { openStore } from '../src/db/store.js';
import { dialects, freshDatabase, session } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';
import { planOf, statementsOf } from './support/plans.js';

describe.each(dialects)('q search on %s', (dialect) => {
  let h: Harness;
  let auth: { authorization: string };
  const patch = (id: string, payload: unknown) =>
    h.request({ method: 'PATCH', url: `/v1/contacts/${id}`, headers: auth, payload: payload as object });
  const remove = (id: string, query = '') =>
    h.request({ method: 'DELETE', url: `/v1/contacts/${id}${query}`, headers: auth });
  const found = async (q: string, query = '') => {
    const res = await h.request({
      method: 'GET',
      url: `/v1/contacts?q=${encodeURIComponent(q)}${query}`,
      headers: auth,
    });
    expect(res.statusCode, q).toBe(200);
    return res
      .json()
      .items.map((c: { name: string }) => c.name)
      .sort();
  };

  beforeAll(async () => {
    h = await createHarness(dialect);
    auth = { authorization: h.a.owner.apiKey };
  });
  afterAll(() => h.close());

  it('follows a contact’s name, phone and email through updates', async () => {
    const c = (
      await h.a.send('POST', '/v1/contacts', {
        first_name: 'Grace',
        last_name: 'Hopper',
        phone: '0412 777 001',
        email: 'grace@navy.example',
      })
    ).json();
    expect(await found('hopper')).toEqual(['Grace Hopper']);
    expect(await found('navy')).toEqual(['Grace Hopper']);
    expect((await patch(c.id, { company: 'Remington Rand' })).statusCode).toBe(200);
    expect(await found('reming')).toEqual(['Grace Hopper']);

    expect((await patch(c.id, { last_name: 'Murray', custom: { rank: 'admiral' } })).statusCode).toBe(200);
    expect(await found('hopper')).toEqual([]);
    expect(await found('murray')).toEqual(['Grace Murray']);
    expect(await found('grace murr')).toEqual(['Grace Murray']);

    expect((await patch(c.id, { phone: '0412 777 002', email: 'grace@fleet.example' })).statusCode).toBe(200);
    expect(await found('0412777001')).toEqual([]);
    expect(await found('navy')).toEqual([]);
    expect(await found('0412 777 002')).toEqual(['Grace Murray']);
    expect(await found('fleet')).toEqual(['Grace Murray']);
    // A change that leaves the words alone keeps every one of them.
    expect((await patch(c.id, { custom: { rank: 'rear admiral' } })).statusCode).toBe(200);
    expect(await found('grace murray fleet')).toEqual(['Grace Murray']);
  });

  it('stops matching a deleted contact, and again after a restore only a permanent deletion', async () => {
    const c = (
      await h.a.send('POST', '/v1/contacts', { first_name: 'Dorothy', last_name: 'Vaughan' })
    ).json();
    expect(await found('vaughan')).toEqual(['Dorothy Vaughan']);
    expect((await remove(c.id)).statusCode).toBe(204);
    expect(await found('vaughan')).toEqual([]);
    expect(await found('vaughan', '&deleted=only')).toEqual(['Dorothy Vaughan']);
    expect((await h.a.send('POST', `/v1/contacts/${c.id}/restore`, undefined)).statusCode).toBe(200);
    expect(await found('vaughan')).toEqual(['Dorothy Vaughan']);
    expect((await remove(c.id, '?permanent=true')).statusCode).toBe(204);
    expect(await found('vaughan', '&deleted=include')).toEqual([]);
    // A contact made afterwards with the same words matches alone.
    await h.a.send('POST', '/v1/contacts', { first_name: 'Dorothy', last_name: 'Vaughan' });
    expect(await found('vaughan', '&deleted=include')).toEqual(['Dorothy Vaughan']);
  });

  it('matches words with accents and in other scripts, in any case, as prefixes', async () => {
    for (const name of ['Zoë Ångström', 'Иван Петров', '太郎 東京', 'Σωκράτης Παππάς'])
      await h.a.send('POST', '/v1/contacts', { name });
    expect(await found('zoë')).toEqual(['Zoë Ångström']);
    expect(await found('ÅNGS')).toEqual(['Zoë Ångström']);
    expect(await found('ива петр')).toEqual(['Иван Петров']);
    expect(await found('ИВАН')).toEqual(['Иван Петров']);
    expect(await found('東')).toEqual(['太郎 東京']);
    expect(await found('σωκ')).toEqual(['Σωκράτης Παππάς']);
    expect(await found('ивн')).toEqual([]);
  });

  it('takes a prefix up to the next code point, however many bytes either has', async () => {
    // U+20BFF is the last code point before a carry into UTF-16's high surrogate; U+10000 is
    // the first four-byte one in UTF-8, above every three-byte character a sloppy bound stops at.
    for (const name of ['Ab\u{10000}', 'Ac', 'Ab\uffdb', '\u{20bff}', '\u{20bff}\u{20bff}', '\u{20c00}'])
      await h.a.send('POST', '/v1/contacts', { name });
    expect(await found('ab')).toEqual(['Ab\u{10000}', 'Ab\uffdb'].sort());
    expect(await found('ab\u{10000}')).toEqual(['Ab\u{10000}']);
    expect(await found('\u{20bff}')).toEqual(['\u{20bff}', '\u{20bff}\u{20bff}']);
    expect(await found('\u{20c00}')).toEqual(['\u{20c00}']);
  });

  it('stores a contact with a word longer than PostgreSQL indexes, and finds one shorter', async () => {
    // NFKC makes ㌖ six katakana (18 bytes): 200 of them are one word of 3,600 bytes, over the
    // 2,047 that tsvector indexed and contact_words keeps (migration 0005).
    expect((await h.a.send('POST', '/v1/contacts', { name: '㌖'.repeat(200) })).statusCode).toBe(201);
    expect((await h.a.send('POST', '/v1/contacts', { name: '㌖'.repeat(100) })).statusCode).toBe(201);
    expect((await found('キロメートルキロ')).length).toBeGreaterThanOrEqual(1);
  });

  it('never matches another organisation’s words', async () => {
    await h.request({
      method: 'POST',
      url: '/v1/contacts',
      headers: { authorization: h.b.owner.apiKey },
      payload: { first_name: 'Zebedee', last_name: 'Globexian', phone: '0412 555 123' },
    });
    expect(await found('zebedee')).toEqual([]);
    expect(await found('0412555123')).toEqual([]);
    const theirs = await h.request({
      method: 'GET',
      url: '/v1/contacts?q=zeb',
      headers: { authorization: h.b.owner.apiKey },
    });
    expect(theirs.json().items.map((c: { name: string }) => c.name)).toEqual(['Zebedee Globexian']);
  });

  it.skipIf(dialect !== 'postgres')(
    'holds exactly the words of every contact, and shows no other organisation’s',
    async () => {
      const drift = (tenant: string) =>
        session(h.database.url, tenant, async (c) => {
          const { rows } = await c.query(`
          with words as (select contact_key, word from contact_words),
            expected as (select key, contact_words_of(search_doc) as word from contacts)
          select (select count(*)::int from words) as words,
            (select count(*)::int from (select * from words except select * from expected) x) as extra,
            (select count(*)::int from (select * from expected except select * from words) x) as missing`);
          return rows[0];
        });
      const a = await drift(h.a.org.id);
      expect(a.words).toBeGreaterThan(20);
      expect(a).toMatchObject({ extra: 0, missing: 0 });
      expect(await drift(h.b.org.id)).toMatchObject({ extra: 0, missing: 0 });
      await session(h.database.url, h.b.org.id, async (c) => {
        expect((await c.query(`select * from contact_words where word = 'grace'`)).rows).toEqual([]);
        await expect(
          c.query(`insert into contact_words values ($1, 'planted', 1)`, [h.a.org.id]),
        ).rejects.toMatchObject({ code: '42501' });
      });
    },
  );
});

describe.skipIf(!dialects.includes('postgres'))(
  'the words of contacts made before migration 0005 (PostgreSQL)',
  () => {
    it('are filled in by the migration, for every organisation', async () => {
      const database = await freshDatabase('postgres');
      const owner = new Kysely<Database>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.ownerUrl, max: 1 }) }),
      });
      try {
        expect(
          (await migrator(owner, 'postgres').migrateTo('0004_row_level_security')).error,
        ).toBeUndefined();
        for (const [organisation, doc] of [
          ['org-1', 'ada lovelace 61412345678'],
          ['org-2', 'ada byron'],
        ])
          await session(database.ownerUrl!, organisation!, (c) =>
            c.query(
              `insert into contacts (organisation_id, id, display_name, sort_name, search_doc, created_at, updated_at)
             values ($1, 'c', 'x', 'x', $2, 0, 0)`,
              [organisation, doc],
            ),
          );

        const store = openStore({ url: database.url, ownerUrl: database.ownerUrl });
        await store.migrate();
        await store.close();
        const words = (organisation: string) =>
          session(database.url, organisation, async (c) =>
            (await c.query('select word from contact_words order by word')).rows.map((r) => r.word),
          );
        expect(await words('org-1')).toEqual(['61412345678', 'ada', 'lovelace']);
        expect(await words('org-2')).toEqual(['ada', 'byron']);
      } finally {
        await owner.destroy();
        await database.drop();
      }
    });
  },
);

describe('prefixEnd', () => {
  it('is the least string above every string that starts with the prefix', () => {
    expect(prefixEnd('ab')).toBe('ac');
    expect(prefixEnd('a\u{20bff}')).toBe('a\u{20c00}');
    expect(prefixEnd('a\ud7ff')).toBe('a\ue000');
    expect(prefixEnd('a\u{10ffff}')).toBe('b');
    expect(prefixEnd('\u{10ffff}')).toBeUndefined();
  });
});

describe.skipIf(!dialects.includes('postgres'))(
  'q search’s plan under row-level security (PostgreSQL)',
  () => {
    let h: Harness;

    beforeAll(async () => {
      h = await createHarness('postgres');
      // Enough contacts that a plan reading them all would cost far more than one reading a word's.
      await session(h.database.ownerUrl!, h.a.org.id, async (c) => {
        await c.query(
          `insert into contacts (organisation_id, id, display_name, sort_name, search_doc, created_at, updated_at)
         select $1, 'plan-' || i, 'Person ' || i, 'person ' || i, 'person' || i || ' plan common', i, i
         from generate_series(1, 20000) as i`,
          [h.a.org.id],
        );
        await c.query('analyze contacts, contact_words');
      });
    });
    afterAll(() => h.close());

    it('reads the words’ index, not every contact, as the serving role', async () => {
      // The repository's own statement, captured, then explained in a session of the serving role.
      const [search] = await statementsOf('postgres', h.database, h.a.org.id, async (scope) => {
        const page = await listContactRows(scope, { q: 'person1234 plan' }, 'name', 50);
        expect(page.items.map((row) => row.display_name)).toHaveLength(11);
      });
      const plan = await planOf('postgres', h.database, h.a.org.id, search!);
      expect(plan).toMatch(/Index (Only )?Scan using contact_words_pk on contact_words/);
      expect(plan).not.toMatch(/Seq Scan on contacts/);
    });
  },
);
