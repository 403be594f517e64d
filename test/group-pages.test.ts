import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../src/db/connection.js';
import { migrator } from '../src/db/migrate.js';
import { listContactRows, type ContactFilter } from '../src/db/repositories/contacts.js';
import { addMembers } from '../src/db/repositories/memberships.js';
import { findGroupRow } from '../src/db/repositories/groups.js';
import { openStore } from '../src/db/store.js';
import { sortKey } from '../src/domain/contact.js';
import { dialects, freshDatabase, raw } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';
import { planOf, statementsOf } from './support/plans.js';

/** A contact as these tests follow it: `seq` is its creation order, which is its key's order. */
interface Member {
  id: string;
  name: string;
  seq: number;
}

/** The order of a page by name: sort name, then key. */
const byName = (a: Member, b: Member) => {
  const [x, y] = [sortKey(a.name), sortKey(b.name)];
  return x < y ? -1 : x > y ? 1 : a.seq - b.seq;
};
const idsByName = (members: Member[]) => [...members].sort(byName).map((m) => m.id);

/** Names that tie (sortKey lower-cases), differ only past a shared prefix, or decompose (É). */
const NAMES = [
  'Walter White',
  'ada lovelace',
  'Émile Zola',
  'Ada Lovelace',
  'Bob',
  'Emile Zola',
  'bob',
  'Carol Chen',
  'Ada Lovelace',
  'Grace Hopper',
  'Ada',
  'Zoe Adams',
  'Heidi',
];

describe.each(dialects)('a group’s pages by name on %s', (dialect) => {
  let h: Harness;
  let seq = 0;
  let phones = 0;

  const send: Harness['a']['send'] = (...args) => h.a.send(...args);
  const imported = async (csv: string, query: string) => (await h.a.imported(csv, { query })).id as string;
  const newGroup = async (name: string): Promise<string> => (await h.a.group({ name })).id;
  const newPhone = () => `0412 600 ${String(++phones).padStart(3, '0')}`;
  const newContact = async (name: string): Promise<Member & { phone: string }> => {
    const phone = newPhone();
    const res = await send('POST', '/v1/contacts', { name, phone });
    expect(res.statusCode, res.body).toBe(201);
    return { id: res.json().id, name, phone, seq: seq++ };
  };
  /** A contact made some other way than POST /v1/contacts, found by its number. */
  const madeElsewhere = async (name: string, phone: string): Promise<Member> => {
    const res = await send('GET', `/v1/contacts?phone=${encodeURIComponent(phone)}`);
    expect(res.json().items, phone).toHaveLength(1);
    expect(res.json().items[0].name).toBe(name);
    return { id: res.json().items[0].id, name, seq: seq++ };
  };
  const addMembers = async (groupId: string, members: Member[]) => {
    const res = await send('POST', `/v1/groups/${groupId}/members`, {
      contact_ids: members.map((m) => m.id),
    });
    expect(res.statusCode, res.body).toBe(200);
  };
  /** A group of new contacts with these names, beside contacts of the same names outside it. */
  const groupOf = async (names: string[]) => {
    const id = await newGroup(`Group ${seq}`);
    const members: (Member & { phone: string })[] = [];
    for (const name of names) {
      members.push(await newContact(name));
      await newContact(name);
    }
    await addMembers(id, members.slice(0, 4));
    await addMembers(id, members.slice(2));
    return { id, members };
  };
  const rename = async (member: Member, name: string, method: 'PATCH' | 'PUT' = 'PATCH') => {
    const res = await send(method, `/v1/contacts/${member.id}`, { name });
    expect(res.statusCode, res.body).toBe(200);
    member.name = name;
  };

  /** One page's ids and its cursor. */
  const page = async (url: string, limit: number, cursor?: string) => {
    const res = await send('GET', `${url}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    const { items, next_cursor } = res.json() as { items: { id: string }[]; next_cursor: string | null };
    expect(items.length).toBeLessThanOrEqual(limit);
    return { ids: items.map((c) => c.id), next: next_cursor ?? undefined };
  };
  /** Every page from `cursor` on, `limit` at a time: the ids in order. */
  const pages = async (url: string, limit: number, cursor?: string) => {
    const ids: string[] = [];
    do {
      const next = await page(url, limit, cursor);
      ids.push(...next.ids);
      cursor = next.next;
    } while (cursor && ids.length < 1000);
    return ids;
  };
  const byNameUrl = (groupId: string, order: 'asc' | 'desc', query = '') =>
    `/v1/groups/${groupId}/members?sort=name&order=${order}${query}`;

  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  it('pages in both orders by sort name then key, across pages of any size, on both routes', async () => {
    const { id, members } = await groupOf(NAMES);
    const expected = idsByName(members);
    for (const limit of [1, 4, 50]) {
      expect(await pages(byNameUrl(id, 'asc'), limit), `limit ${limit}`).toEqual(expected);
      expect(await pages(byNameUrl(id, 'desc'), limit), `limit ${limit}`).toEqual([...expected].reverse());
    }
    expect(await pages(`/v1/contacts?group_id=${id}&sort=name`, 3)).toEqual(expected);
    expect(await pages(`/v1/contacts?group_id=${id}&sort=name&order=desc`, 3)).toEqual(
      [...expected].reverse(),
    );
    // A filter that keeps the contacts' own sort index pages alike.
    const since = '&updated_since=2000-01-01T00:00:00Z';
    expect(await pages(byNameUrl(id, 'asc', since), 5)).toEqual(expected);
    expect(await pages(byNameUrl(id, 'desc', since), 5)).toEqual([...expected].reverse());
  });

  it('moves a renamed member in the pages of each of its groups, by PATCH and by PUT', async () => {
    const first = await groupOf(['Anna', 'Bea', 'Cleo', 'Dora', 'Edna']);
    const second = await newGroup('Second');
    const [anna, , cleo] = first.members;
    await addMembers(second, [anna!, cleo!, first.members[4]!]);
    const secondMembers = [anna!, cleo!, first.members[4]!];
    const check = async () => {
      expect(await pages(byNameUrl(first.id, 'asc'), 2)).toEqual(idsByName(first.members));
      expect(await pages(byNameUrl(first.id, 'desc'), 2)).toEqual(idsByName(first.members).reverse());
      expect(await pages(byNameUrl(second, 'asc'), 2)).toEqual(idsByName(secondMembers));
    };
    await rename(anna!, 'Zelda');
    await check();
    await rename(cleo!, 'aaron', 'PUT');
    await check();
    await rename(anna!, 'ANNA');
    await check();
  });

  it('places members added by every path by their name: members, seed placements, imports, seed 002', async () => {
    const seedBook = await send('POST', '/api/group/new', { name: 'Paths book' });
    const bookKey = seedBook.json().result.id as number;
    const groupId = (await send('GET', '/v1/groups?q=Paths%20book')).json().items[0].id as string;
    const members: Member[] = [];

    // POST /v1/groups/:id/members.
    for (const name of ['Mona', 'Kurt']) members.push(await newContact(name));
    await addMembers(groupId, members);

    // Seed 003: a contact created in the book, and one moved into it from another book, renamed.
    const placedPhone = newPhone();
    const placed = await send('POST', '/api/contact/new', {
      group_id: bookKey,
      phone_number: placedPhone,
      first_name: 'Lars',
      last_name: 'Berg',
    });
    expect(placed.statusCode, placed.body).toBe(200);
    members.push(await madeElsewhere('Lars Berg', placedPhone));
    const otherBook = (await send('POST', '/api/group/new', { name: 'Other book' })).json().result.id;
    const movedPhone = newPhone();
    const movedKey = (
      await send('POST', '/api/contact/new', {
        group_id: otherBook,
        phone_number: movedPhone,
        first_name: 'Outside',
      })
    ).json().result.id;
    const moved = await madeElsewhere('Outside', movedPhone);
    const edit = await send('POST', '/api/contact/edit', {
      id: movedKey,
      group_id: bookKey,
      first_name: 'Bjorn',
    });
    expect(edit.statusCode, edit.body).toBe(200);
    moved.name = 'Bjorn';
    members.push(moved);

    // An import into the group: a new contact, and a member it renames (names that agree, or it would be someone else).
    const importedPhone = newPhone();
    const mona = members[0] as Member & { phone: string };
    await imported(
      `name,phone\nIngrid Import,${importedPhone}\nAardvark Mona,${mona.phone}\n`,
      `group_id=${groupId}&mode=upsert`,
    );
    members.push(await madeElsewhere('Ingrid Import', importedPhone));
    mona.name = 'Aardvark Mona';

    // Seed 002: a group made with a manual contact.
    const manualPhone = newPhone();
    const seed002 = await h.request({
      method: 'POST',
      url: '/api/unified-communications/contact-groups',
      headers: { authorization: h.a.owner.jwt },
      payload: {
        name: 'Paths 002',
        church: h.a.org.id,
        manual_contacts: [{ first_name: 'Nils', last_name: 'Manual', phone: manualPhone }],
      },
    });
    expect(seed002.statusCode, seed002.body).toBe(201);
    const manual = await madeElsewhere('Nils Manual', manualPhone);
    const otherMember = await newContact('Able');
    await addMembers(seed002.json().id, [otherMember]);
    expect(await pages(byNameUrl(seed002.json().id, 'asc'), 1)).toEqual(idsByName([manual, otherMember]));

    expect(await pages(byNameUrl(groupId, 'asc'), 2)).toEqual(idsByName(members));
    expect(await pages(byNameUrl(groupId, 'desc'), 2)).toEqual(idsByName(members).reverse());
  });

  it('follows the names an import writes into its groups’ pages, and the names its rollback restores', async () => {
    const { id, members } = await groupOf(['Cara', 'Dirk', 'Esme']);
    const [cara, dirk] = members;
    const job = await imported(
      `name,phone\nZara Cara,${cara!.phone}\nAbel Dirk,${dirk!.phone}\n`,
      'mode=upsert',
    );
    [cara!.name, dirk!.name] = ['Zara Cara', 'Abel Dirk'];
    expect(await pages(byNameUrl(id, 'asc'), 2)).toEqual(idsByName(members));
    const undo = await send('POST', `/v1/imports/${job}/rollback`);
    expect(undo.statusCode, undo.body).toBe(200);
    [cara!.name, dirk!.name] = ['Cara', 'Dirk'];
    expect(await pages(byNameUrl(id, 'asc'), 2)).toEqual(idsByName(members));
    expect(await pages(byNameUrl(id, 'desc'), 2)).toEqual(idsByName(members).reverse());
  });

  it('leaves a soft-deleted member out unless asked, and shows it in place with deleted=include or only', async () => {
    const { id, members } = await groupOf(['Fay', 'Gus', 'Hal', 'Ida', 'Jon']);
    const gone = members[2]!;
    expect((await send('DELETE', `/v1/contacts/${gone.id}`)).statusCode).toBe(204);
    const live = members.filter((m) => m !== gone);
    for (const order of ['asc', 'desc'] as const) {
      const ordered = (list: Member[]) => (order === 'asc' ? idsByName(list) : idsByName(list).reverse());
      expect(await pages(byNameUrl(id, order), 2)).toEqual(ordered(live));
      expect(await pages(byNameUrl(id, order, '&deleted=exclude'), 2)).toEqual(ordered(live));
      expect(await pages(byNameUrl(id, order, '&deleted=include'), 2)).toEqual(ordered(members));
      expect(await pages(byNameUrl(id, order, '&deleted=only'), 2)).toEqual([gone.id]);
    }
    expect((await send('POST', `/v1/contacts/${gone.id}/restore`)).statusCode).toBe(200);
    expect(await pages(byNameUrl(id, 'asc'), 2)).toEqual(idsByName(members));
  });

  it.each(['asc', 'desc'] as const)(
    'keeps paging (%s) with a cursor handed out before its contact and others were renamed',
    async (order) => {
      const { id, members } = await groupOf(['Kim', 'Lea', 'Max', 'Ned', 'Oda', 'Pia', 'Quin', 'Rex']);
      const ordered = order === 'asc' ? idsByName(members) : idsByName(members).reverse();
      const first = await page(byNameUrl(id, order), 3);
      expect(first.ids).toEqual(ordered.slice(0, 3));
      const [atCursor, later] = [ordered[2], ordered[4]].map((i) => members.find((m) => m.id === i)!);
      const cursorAt = { ...atCursor! };
      // The cursor's own contact moves to the far end, and one from further on moves before it.
      const [far, near] = order === 'asc' ? ['Zed', 'Abe'] : ['Abe', 'Zed'];
      await rename(atCursor!, far);
      await rename(later!, near);
      const after = (m: Member) => (order === 'asc' ? byName(m, cursorAt) > 0 : byName(m, cursorAt) < 0);
      const rest = members.filter(after);
      expect(await pages(byNameUrl(id, order), 2, first.next)).toEqual(
        order === 'asc' ? idsByName(rest) : idsByName(rest).reverse(),
      );
      expect(rest).toContain(atCursor);
      expect(rest).not.toContain(later);
    },
  );
});

describe.each(dialects)('the plan of a group’s page by name on %s', (dialect) => {
  let h: Harness;
  let groupId: string;

  /** The plan of the page listContactRows reads for the group with these options. */
  const planOfPage = async (
    filter: Omit<ContactFilter, 'group'>,
    descending = false,
    after?: { value: string; key: number },
  ) => {
    const statements = await statementsOf(dialect, h.database, h.a.org.id, async (scope) => {
      const group = (await findGroupRow(scope, { id: groupId }))!;
      const members = { key: group.key, members: group.member_count };
      const page = await listContactRows(scope, { ...filter, group: members }, 'name', 50, after, descending);
      expect(page.items).toHaveLength(50);
    });
    return planOf(dialect, h.database, h.a.org.id, statements.at(-1)!);
  };

  beforeAll(async () => {
    h = await createHarness(dialect);
    // Enough members, and contacts outside the group, that a plan reading every member would
    // cost far more than one reading a page's.
    const people = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => `Person ${((from + i) * 7919) % 10_000}`).join('\n');
    await h.a.imported(`name\n${people(0, 3000)}\n`, { query: 'group_name=Big&mode=create' });
    await h.a.imported(`name\n${people(3000, 5000)}\n`, { query: 'mode=create' });
    const groups = await h.request({
      method: 'GET',
      url: '/v1/groups?q=Big',
      headers: { authorization: h.a.owner.apiKey },
    });
    groupId = groups.json().items[0].id;
    expect(groups.json().items[0].member_count).toBe(3000);
  });
  afterAll(() => h.close());

  it.each([
    ['ascending', {}, false, undefined],
    ['descending', {}, true, undefined],
    ['after a cursor', {}, false, { value: 'person 5', key: 1 }],
    ['descending after a cursor', {}, true, { value: 'person 5', key: 1 }],
    ['with deleted members', { deleted: 'include' }, false, undefined],
  ] as const)(
    'walks the memberships’ name index for a page %s, with no sort',
    async (_, filter, descending, after) => {
      const plan = await planOfPage(filter, descending, after);
      if (dialect === 'sqlite') {
        expect(plan).toMatch(/SEARCH memberships USING (COVERING )?INDEX memberships_sort_name/);
        expect(plan).not.toContain('USE TEMP B-TREE FOR ORDER BY');
      } else {
        expect(plan).toMatch(/Index (Only )?Scan (Backward )?using memberships_sort_name on memberships/);
        expect(plan).not.toMatch(/\bSort\b/);
      }
    },
  );
});

// SQLite only: with no statistics it takes an equality on the organisation for a few rows, and
// PostgreSQL plans a table this small as a scan whatever the query.
describe('adding members on SQLite with no statistics yet', () => {
  it('probes the contacts by key, not the organisation’s sort index', async () => {
    // No import ran, so nothing has refreshed the planner's statistics.
    const h = await createHarness('sqlite');
    try {
      const auth = { authorization: h.a.owner.apiKey };
      const group = (
        await h.request({ method: 'POST', url: '/v1/groups', headers: auth, payload: { name: 'Probe' } })
      ).json();
      const statements = await statementsOf('sqlite', h.database, h.a.org.id, async (scope) => {
        const row = (await findGroupRow(scope, { id: group.id }))!;
        // A call's worth of keys: for a few, probing looks cheaper than any scan anyway.
        const keys = Array.from({ length: 1000 }, (_, i) => i + 1);
        // The capture's connection only reads: the insert is planned below, not run.
        await addMembers(scope, row.key, keys, null, Date.now()).catch(() => undefined);
      });
      const insert = statements.find((statement) => /^insert into "memberships"/.test(statement.sql))!;
      const plan = await planOf('sqlite', h.database, h.a.org.id, insert);
      expect(plan).toMatch(/SEARCH contacts USING (INDEX contacts_org_key|INTEGER PRIMARY KEY)/);
      expect(plan).not.toContain('contacts_org_sort_name');
    } finally {
      await h.close();
    }
  });
});

/** SQL outside Roster's data layer, `?` for each value: on PostgreSQL as `url`'s role under the tenant. */
describe.each(dialects)('migration 0006 on %s', (dialect) => {
  it('copies every organisation’s sort names into their memberships, which then follow renames', async () => {
    const database = await freshDatabase(dialect);
    const ownerUrl = database.ownerUrl ?? database.url;
    const owner = connect({ url: ownerUrl, poolSize: 1 }).db;
    try {
      expect((await migrator(owner, dialect).migrateTo('0005_contact_words')).error).toBeUndefined();
      for (const [organisation, key, name] of [
        ['org-1', 1, 'bob'],
        ['org-1', 2, 'ada'],
        ['org-2', 3, 'cy'],
      ] as const) {
        await raw(
          dialect,
          ownerUrl,
          organisation,
          `insert into contacts (organisation_id, key, id, display_name, sort_name, created_at, updated_at)
           values (?, ?, ?, ?, ?, 0, 0)`,
          [organisation, key, `c${key}`, name, name],
        );
        for (const group of [10, 11])
          await raw(
            dialect,
            ownerUrl,
            organisation,
            'insert into memberships (organisation_id, group_key, contact_key, added_at) values (?, ?, ?, 0)',
            [organisation, group, key],
          );
      }

      const store = openStore({ url: database.url, ownerUrl: database.ownerUrl });
      await store.migrate();
      await store.close();
      // As the serving role, under each organisation's own tenant.
      const copies = async (organisation: string) =>
        (
          await raw(
            dialect,
            database.url,
            organisation,
            `select group_key, contact_key, sort_name from memberships where organisation_id = ?
             order by group_key, sort_name`,
            [organisation],
          )
        ).map((r) => `${r.group_key}/${r.contact_key} ${r.sort_name}`);
      const both = async () => [await copies('org-1'), await copies('org-2')];
      const untouched = ['10/3 cy', '11/3 cy'];
      expect(await both()).toEqual([['10/2 ada', '10/1 bob', '11/2 ada', '11/1 bob'], untouched]);
      await raw(dialect, database.url, 'org-1', `update contacts set sort_name = 'zed' where key = 2`);
      expect(await both()).toEqual([['10/1 bob', '10/2 zed', '11/1 bob', '11/2 zed'], untouched]);
      if (dialect === 'postgres')
        // The default that made adding the column instant is gone: an insert that forgets it fails.
        await expect(
          raw(
            dialect,
            database.url,
            'org-1',
            `insert into memberships (organisation_id, group_key, contact_key, added_at) values ('org-1', 12, 1, 0)`,
          ),
        ).rejects.toThrow(/sort_name/);
    } finally {
      await owner.destroy();
      await database.drop();
    }
  });
});
