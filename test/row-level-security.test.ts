import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

const postgres = dialects.includes('postgres');

/** A session as the role Roster serves as, outside Roster's data layer: only the database's own policies stand. */
async function asServingRole<T>(h: Harness, tenant: string | null, work: (c: pg.Client) => Promise<T>) {
  const client = new pg.Client({ connectionString: h.database.url });
  await client.connect();
  try {
    if (tenant !== null) await client.query(`select set_config('roster.tenant', $1, false)`, [tenant]);
    return await work(client);
  } finally {
    await client.end();
  }
}

const count = async (c: pg.Client, table: string) =>
  Number((await c.query(`select count(*) as n from ${table}`)).rows[0].n);

describe.skipIf(!postgres)('PostgreSQL row-level security (PostgreSQL only: set TEST_DATABASE_URL)', () => {
  let h: Harness;
  let contactId: string;
  let groupId: string;
  const organisationTables: string[] = [];

  beforeAll(async () => {
    h = await createHarness('postgres');
    const auth = { authorization: h.a.owner.apiKey };
    const contact = await h.request({
      method: 'POST',
      url: '/v1/contacts',
      headers: { ...auth, 'idempotency-key': 'rls-1' },
      payload: { name: 'Ada Lovelace', phone: '+61412345678', consent: { sms: 'subscribed' } },
    });
    contactId = contact.json().id;
    const group = await h.request({
      method: 'POST',
      url: '/v1/groups',
      headers: auth,
      payload: { name: 'Choir' },
    });
    groupId = group.json().id;
    await h.request({
      method: 'POST',
      url: `/v1/groups/${groupId}/members`,
      headers: auth,
      payload: { contact_ids: [contactId] },
    });
    const { rows } = await asServingRole(h, null, (c) =>
      c.query(`select table_name from information_schema.columns
               where column_name = 'organisation_id' and table_schema = current_schema() order by 1`),
    );
    organisationTables.push(...rows.map((row) => row.table_name as string));
  });
  afterAll(() => h.close());

  it('serves as a role that owns no table and cannot bypass the policies', async () => {
    expect(await h.store.rowSecurity()).toMatchObject({ enforced: true });
    const role = await asServingRole(h, null, (c) =>
      c.query(`select rolsuper, rolbypassrls,
                 (select count(*)::int from pg_tables where tableowner = current_user) as owned
               from pg_roles where rolname = current_user`),
    );
    expect(role.rows[0]).toEqual({ rolsuper: false, rolbypassrls: false, owned: 0 });
  });

  it('forces a policy on every table that holds an organisation’s rows', async () => {
    expect(organisationTables.length).toBeGreaterThanOrEqual(11);
    const { rows } = await asServingRole(h, null, (c) =>
      c.query(
        `select relname, relrowsecurity, relforcerowsecurity,
           (select count(*)::int from pg_policies p where p.tablename = relname) as policies
         from pg_class where relname = any($1) and relkind = 'r' order by 1`,
        [[...organisationTables, 'organisations']],
      ),
    );
    const unprotected = rows.filter((r) => !r.relrowsecurity || !r.relforcerowsecurity || r.policies === 0);
    console.log(`row-level security: ${rows.length} tables checked, ${unprotected.length} unprotected`);
    expect(rows).toHaveLength(organisationTables.length + 1);
    expect(unprotected).toEqual([]);
  });

  it('shows a query that names no organisation no row of any table', async () => {
    const seen = await asServingRole(h, null, async (c) => {
      const counts: Record<string, number> = {};
      for (const table of [...organisationTables, 'organisations']) counts[table] = await count(c, table);
      return counts;
    });
    expect(Object.values(seen).every((n) => n === 0)).toBe(true);
    const own = await asServingRole(h, h.a.org.id, async (c) => ({
      contacts: await count(c, 'contacts'),
      memberships: await count(c, 'memberships'),
      contact_consent: await count(c, 'contact_consent'),
      idempotency_keys: await count(c, 'idempotency_keys'),
      contact_words: await count(c, 'contact_words'),
    }));
    expect(own).toEqual({
      contacts: 1,
      memberships: 1,
      contact_consent: 1,
      idempotency_keys: 1,
      contact_words: 3, // ada, lovelace, 61412345678
    });
  });

  it('lets the instance lookups find credentials, but no organisation’s data', async () => {
    const seen = await asServingRole(h, '*', async (c) => ({
      users: await count(c, 'users'),
      api_keys: await count(c, 'api_keys'),
      organisations: await count(c, 'organisations'),
      contacts: await count(c, 'contacts'),
      groups: await count(c, 'groups'),
    }));
    expect(seen.users).toBeGreaterThanOrEqual(2);
    expect(seen.api_keys).toBeGreaterThanOrEqual(2);
    expect(seen.organisations).toBe(2);
    expect(seen).toMatchObject({ contacts: 0, groups: 0 });
  });

  it('refuses to read, change or plant another organisation’s rows', async () => {
    await asServingRole(h, h.b.org.id, async (c) => {
      expect((await c.query('select * from contacts where id = $1', [contactId])).rows).toEqual([]);
      expect(
        (await c.query(`update contacts set first_name = 'Taken' where id = $1`, [contactId])).rowCount,
      ).toBe(0);
      expect((await c.query('delete from memberships')).rowCount).toBe(0);
      await expect(
        c.query(
          `insert into groups (organisation_id, id, name, created_at, updated_at)
           values ($1, 'planted', 'Planted', 0, 0)`,
          [h.a.org.id],
        ),
      ).rejects.toMatchObject({ code: '42501' });
    });
    const read = (url: string) =>
      h.request({ method: 'GET', url, headers: { authorization: h.a.owner.apiKey } }).then((r) => r.json());
    expect(await read(`/v1/contacts/${contactId}`)).toMatchObject({ name: 'Ada Lovelace' });
    expect(await read(`/v1/groups/${groupId}`)).toMatchObject({ member_count: 1 });
    expect((await read('/v1/groups')).items).toHaveLength(1);
  });
});
