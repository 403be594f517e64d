import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import type { Change } from '../src/domain/changes.js';
import { dialects } from './support/databases.js';
import { createHarness, type Harness, type Login } from './support/harness.js';
import { importer } from './support/imports.js';
import { snapshot } from './support/snapshot.js';

type Expected = Partial<Omit<Change, 'actor'>> & { actor?: object };

describe.each(dialects)('the change log on %s', (dialect) => {
  let h: Harness;
  let owner: Login;
  let auth: { authorization: string };
  let keyId: string;
  const request = (
    method: string,
    url: string,
    payload?: object | string,
    headers: Record<string, string> = auth,
  ) => h.request({ method: method as 'GET', url, headers, ...(payload !== undefined && { payload }) });
  const json = async (
    method: string,
    url: string,
    payload?: object,
    headers: Record<string, string> = auth,
  ) => {
    const res = await request(method, url, payload, headers);
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.body ? res.json() : undefined;
  };

  /** Follows the feed from a cursor to its end: every entry, and the cursor to poll with next. */
  async function follow(after?: string, headers: Record<string, string> = auth, limit = 1000) {
    const items: Change[] = [];
    let cursor = after;
    for (;;) {
      const query = new URLSearchParams({ limit: String(limit), ...(cursor && { after: cursor }) });
      const res = await request('GET', `/v1/changes?${query}`, undefined, headers);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { items: Change[]; next_cursor: string };
      items.push(...page.items);
      cursor = page.next_cursor;
      if (page.items.length < limit) return { items, cursor };
    }
  }
  let cursor: string;
  /** The entries the organisation's feed gained since the last call. */
  async function logged(): Promise<Change[]> {
    const { items, cursor: next } = await follow(cursor);
    cursor = next;
    return items;
  }

  beforeAll(async () => {
    h = await createHarness(dialect);
    owner = h.a.owner;
    auth = { authorization: owner.apiKey };
    keyId = (await json('GET', '/v1/api-keys')).items[0].id;
    cursor = (await follow()).cursor;
  });
  afterAll(() => h.close());

  const viaKey = () => ({ user_id: owner.user.id, credential: { kind: 'api_key', id: keyId } });
  const newContact = async (body: object = {}) =>
    (await json('POST', '/v1/contacts', { name: `Person ${Math.random()}`, ...body })) as {
      id: string;
      key: number;
    };
  const newGroup = async () =>
    (await json('POST', '/v1/groups', { name: `Group ${Math.random()}` })) as { id: string };

  it('logs each write of each surface, in the same transaction, naming its actor and surface', async () => {
    const contact = await newContact({ company: 'Before' });
    const group = await newGroup();
    const other = await newContact();
    await logged();
    const editor = await h.a.addUser('editor', 'changes-editor');
    await logged();

    // Each operation, and the entries it must add to the feed (in order).
    const cases: [string, () => Promise<unknown>, Expected[]][] = [
      [
        'v1 create',
        () => newContact({ name: 'Created' }),
        [{ type: 'contact.created', version: 1, surface: 'v1', actor: viaKey() }],
      ],
      [
        'v1 patch: the fields changed, before and after',
        () => json('PATCH', `/v1/contacts/${contact.id}`, { company: 'After', language: 'fr' }),
        [
          {
            type: 'contact.updated',
            resource: { type: 'contact', id: contact.id },
            version: 2,
            changes: { company: { old: 'Before', new: 'After' }, language: { old: null, new: 'fr' } },
          },
        ],
      ],
      [
        'consent',
        () => json('PATCH', `/v1/contacts/${contact.id}`, { consent: { sms: 'unsubscribed' } }),
        [
          { type: 'contact.updated', version: 3, changes: {} },
          { type: 'consent.updated', changes: { sms: { old: null, new: 'unsubscribed' } } },
        ],
      ],
      [
        'v1 patch of the lists: their values, parsed',
        () =>
          json('PATCH', `/v1/contacts/${contact.id}`, {
            title: 'Dr',
            phones: [{ number: '0412 555 001' }, { number: '0412 555 002', label: 'work' }],
            dates: [{ label: 'birthday', date: '--02-29' }],
          }),
        [
          {
            type: 'contact.updated',
            changes: {
              title: { old: null, new: 'Dr' },
              phones: {
                old: null,
                new: [
                  { number: '+61412555001', raw: '0412 555 001', valid: true, label: null },
                  { number: '+61412555002', raw: '0412 555 002', valid: true, label: 'work' },
                ],
              },
              dates: { old: null, new: [{ label: 'birthday', date: '--02-29' }] },
            },
          },
        ],
      ],
      ['soft delete', () => request('DELETE', `/v1/contacts/${other.id}`), [{ type: 'contact.deleted' }]],
      ['restore', () => json('POST', `/v1/contacts/${other.id}/restore`), [{ type: 'contact.restored' }]],
      [
        'a JWT and a password name their credential',
        () => json('PATCH', `/v1/contacts/${other.id}`, { company: 'By JWT' }, { authorization: editor.jwt }),
        [{ type: 'contact.updated', actor: { user_id: editor.user.id, credential: { kind: 'jwt' } } }],
      ],
      [
        'basic',
        () =>
          json(
            'PATCH',
            `/v1/contacts/${other.id}`,
            { company: 'By password' },
            { authorization: editor.basic },
          ),
        [
          {
            type: 'contact.updated',
            actor: { user_id: editor.user.id, credential: { kind: 'basic', id: null } },
          },
        ],
      ],
      ['group create', () => newGroup(), [{ type: 'group.created', version: 1 }]],
      [
        'group patch',
        () => json('PATCH', `/v1/groups/${group.id}`, { description: 'Choir' }),
        [{ type: 'group.updated', changes: { description: { old: null, new: 'Choir' } } }],
      ],
      [
        'members added: one entry with the ids',
        () => json('POST', `/v1/groups/${group.id}/members`, { contact_ids: [contact.id, other.id] }),
        [{ type: 'group.members_added', resource: { type: 'group', id: group.id } }],
      ],
      [
        'members removed',
        () => request('DELETE', `/v1/groups/${group.id}/members`, { contact_ids: [other.id] }),
        [{ type: 'group.members_removed', contact_ids: [other.id] }],
      ],
      [
        'member job',
        async () => {
          await json('POST', `/v1/groups/${group.id}/members/matching`, { q: 'Created' });
          await h.services.memberJobs.idle();
        },
        [{ type: 'group.members_added' }],
      ],
      [
        'users',
        () => json('PATCH', `/v1/users/${editor.user.id}`, { display_name: 'Ed' }),
        [{ type: 'user.updated', changes: { display_name: { old: editor.user.display_name, new: 'Ed' } } }],
      ],
      [
        'api keys: created and revoked',
        async () =>
          request('DELETE', `/v1/api-keys/${(await json('POST', '/v1/api-keys', { name: 'k' })).id}`),
        [{ type: 'api_key.created' }, { type: 'api_key.revoked' }],
      ],
      [
        'organisation settings',
        () => json('PATCH', '/v1/organisation', { default_language: 'de' }),
        [{ type: 'organisation.updated', changes: { default_language: { old: 'en', new: 'de' } } }],
      ],
      [
        'seed 000',
        () =>
          json('POST', `/api/v1.0/organisation/${h.a.org.id}/contact-groups/create/`, {
            translations: 'Seed 0',
          }),
        [{ type: 'group.created', surface: 'seed-000' }],
      ],
      [
        'seed 001',
        () =>
          json(
            'POST',
            '/contact',
            { name: 'Seed One', number: '+14155550111' },
            { authorization: owner.jwt },
          ),
        [{ type: 'contact.created', surface: 'seed-001', actor: { credential: { kind: 'jwt' } } }],
      ],
      [
        'seed 002',
        () =>
          json('POST', '/api/unified-communications/contact-groups', {
            name: 'Seed Two',
            church: h.a.org.id,
          }),
        [{ type: 'group.created', surface: 'seed-002' }],
      ],
      [
        'seed 003: a book, and a contact in it',
        async () => {
          const book = (await json('POST', '/api/group/new', { name: 'Seed Three' })).result.id;
          await json('POST', '/api/contact/new', { group_id: book, phone_number: '+14155550133' });
        },
        [
          { type: 'group.created', surface: 'seed-003' },
          { type: 'contact.created', surface: 'seed-003' },
          { type: 'group.members_added', surface: 'seed-003' },
        ],
      ],
      [
        'CLI',
        async () => {
          const io = { out: () => undefined, err: () => undefined, write: () => undefined };
          const args = ['key', 'create', '--org', h.a.org.id, '--user', owner.user.id, '--name', 'cli'];
          expect(await main(args, io, h.database.env)).toBe(0);
        },
        [{ type: 'api_key.created', surface: 'cli', actor: { user_id: null, credential: { kind: 'cli' } } }],
      ],
    ];
    for (const [name, run, expected] of cases) {
      await run();
      const entries = await logged();
      expect(entries, name).toHaveLength(expected.length);
      entries.forEach((entry, i) => expect(entry, name).toMatchObject(expected[i]!));
    }
    const members = (await logged()).length;
    expect(members).toBe(0);
  });

  it('logs every contact an import changes in the feed, and its rollback, each summed up in one notifying entry', async () => {
    const { importFile } = importer(h);
    await logged();
    const job = await importFile('name,email\nAnn,ann@example.com\nBob,bob@example.com\n', 'mode=create');
    const entries = await logged();
    const author = { user_id: owner.user.id, credential: { kind: 'import', id: job.id } };
    expect(entries.map((e) => e.type)).toEqual(['contact.created', 'contact.created', 'import.completed']);
    for (const entry of entries) expect(entry).toMatchObject({ surface: 'import', actor: author });
    expect(entries[2]).toMatchObject({
      resource: { type: 'import', id: job.id },
      summary: { status: 'completed', created: 2 },
    });
    await json('POST', `/v1/imports/${job.id}/rollback`);
    const undone = await logged();
    expect(undone.map((e) => e.type)).toEqual(['contact.erased', 'contact.erased', 'import.rolled_back']);
    expect(undone[2]).toMatchObject({ summary: { rolled_back: 2 } });
  });

  it('logs a merge and its undo', async () => {
    const survivor = await newContact({ email: 'twin@example.com' });
    const twin = await newContact({ company: 'Twin Co' });
    await logged();
    const merged = await json('POST', `/v1/contacts/${survivor.id}/merge`, { ids: [twin.id] });
    expect((await logged()).map((e) => [e.type, e.resource.id])).toEqual([
      ['contact.merged', twin.id],
      ['contact.updated', survivor.id],
    ]);
    await json('POST', `/v1/merges/${merged.id}/undo`);
    expect((await logged()).map((e) => [e.type, e.resource.id])).toEqual([
      ['contact.updated', survivor.id],
      ['contact.restored', twin.id],
    ]);
  });

  it('writes nothing for a failed request', async () => {
    const contact = await newContact();
    await logged();
    const before = await snapshot(h);
    expect((await request('POST', '/v1/contacts', { name: 'x', phone: 'not a number' })).statusCode).toBe(
      400,
    );
    const stale = await request(
      'PATCH',
      `/v1/contacts/${contact.id}`,
      { company: 'x' },
      { ...auth, 'if-match': '"9"' },
    );
    expect(stale.statusCode).toBe(412);
    expect(
      (
        await request('POST', '/v1/groups/01890000-0000-7000-8000-000000000000/members', {
          contact_ids: [contact.id],
        })
      ).statusCode,
    ).toBe(404);
    expect(await logged()).toEqual([]);
    expect(await snapshot(h)).toEqual(before);
  });

  it('shows a record’s history newest first, in pages, and erases its values with it', async () => {
    const contact = await newContact({ name: 'Private Person', email: 'private@example.com' });
    for (const company of ['One', 'Two', 'Three'])
      await json('PATCH', `/v1/contacts/${contact.id}`, { company });
    const first = await json('GET', `/v1/contacts/${contact.id}/history?limit=2`);
    expect(first.items.map((e: Change) => e.changes?.company?.new)).toEqual(['Three', 'Two']);
    const second = await json(
      'GET',
      `/v1/contacts/${contact.id}/history?limit=2&cursor=${first.next_cursor}`,
    );
    expect(second.items.map((e: Change) => e.type)).toEqual(['contact.updated', 'contact.created']);
    expect(second.next_cursor).toBeNull();

    await json('DELETE', `/v1/contacts/${contact.id}?permanent=true`);
    const erased = await json('GET', `/v1/contacts/${contact.id}/history`);
    expect(erased.items.map((e: Change) => e.type)).toEqual([
      'contact.erased',
      'contact.deleted',
      'contact.updated',
      'contact.updated',
      'contact.updated',
      'contact.created',
    ]);
    for (const entry of erased.items) expect(entry.changes).toBeUndefined();
    const everything = JSON.stringify((await follow()).items);
    expect(everything).not.toContain('Three');
    expect(everything).not.toContain('private@example.com');

    const group = await newGroup();
    await json('PATCH', `/v1/groups/${group.id}`, { name: 'Renamed group' });
    const history = await json('GET', `/v1/groups/${group.id}/history`);
    expect(history.items.map((e: Change) => e.type)).toEqual(['group.updated', 'group.created']);
  });

  it('lets viewers read, filters by type, and keeps organisations apart', async () => {
    const viewer = await h.a.addUser('viewer', 'changes-viewer');
    const contact = await newContact();
    const viewed = await follow(undefined, { authorization: viewer.apiKey });
    expect(viewed.items.some((e) => e.resource.id === contact.id)).toBe(true);
    const created = await json('GET', '/v1/changes?types=contact.created,group.created&limit=1000');
    expect(new Set(created.items.map((e: Change) => e.type))).toEqual(
      new Set(['contact.created', 'group.created']),
    );
    expect((await request('GET', '/v1/changes?types=contact.nonsense')).statusCode).toBe(400);

    const other = { authorization: h.b.owner.apiKey };
    const theirs = await follow(undefined, other);
    expect(theirs.items.some((e) => e.resource.id === contact.id)).toBe(false);
    expect(JSON.stringify(theirs.items)).not.toContain(h.a.org.id);
    expect((await request('GET', `/v1/contacts/${contact.id}/history`, undefined, other)).statusCode).toBe(
      404,
    );
    // A cursor of another organisation's feed reads this one's from that number: nothing of theirs.
    const mine = await follow(cursor, other);
    expect(mine.items.every((e) => theirs.items.some((t) => t.seq === e.seq) || e.seq > 0)).toBe(true);
    expect(JSON.stringify(mine.items)).not.toContain(contact.id);
  });

  it('answers 410 for a cursor older than the retention, and starts afresh without one', async () => {
    const old = (await follow()).cursor;
    await newContact();
    expect(await h.services.changes.prune(Date.now() + 31 * 24 * 3600 * 1000)).toBeGreaterThan(0);
    const res = await request('GET', `/v1/changes?after=${old}`);
    expect(res.statusCode).toBe(410);
    expect(res.json()).toMatchObject({ type: 'https://roster.dev/problems/cursor_expired', status: 410 });
    const fresh = await follow();
    expect(fresh.items).toEqual([]);
    await newContact();
    expect((await follow(fresh.cursor)).items).toHaveLength(1);
    cursor = (await follow()).cursor;
  });
});

describe.runIf(dialects.includes('postgres'))(
  'the change feed under concurrent writers on PostgreSQL',
  () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness('postgres');
    });
    afterAll(() => h.close());

    it('hands every committed change to a follower exactly once, in order, while the writes go on', async () => {
      const auth = { authorization: h.a.owner.apiKey };
      const feed = async (after?: string) => {
        const res = await h.request({
          method: 'GET',
          url: `/v1/changes?limit=1000${after ? `&after=${after}` : ''}`,
          headers: auth,
        });
        return res.json() as { items: Change[]; next_cursor: string };
      };
      // The harness's own users and keys are logged already.
      const before = (await feed()).items.length;
      const seen: Change[] = [];
      let polling = true;
      const poller = (async () => {
        let after: string | undefined;
        while (polling) {
          const page = await feed(after);
          seen.push(...page.items);
          after = page.next_cursor;
        }
        for (let page = await feed(after); page.items.length > 0; page = await feed(after)) {
          seen.push(...page.items);
          after = page.next_cursor;
        }
      })();
      const write = async (i: number) => {
        const created = await h.request({
          method: 'POST',
          url: '/v1/contacts',
          headers: auth,
          payload: { name: `Concurrent ${i}` },
        });
        expect(created.statusCode).toBe(201);
        const patched = await h.request({
          method: 'PATCH',
          url: `/v1/contacts/${created.json().id}`,
          headers: auth,
          payload: { company: `Company ${i}` },
        });
        expect(patched.statusCode).toBe(200);
      };
      await Promise.all(Array.from({ length: 60 }, (_, i) => write(i)));
      polling = false;
      await poller;

      const all: Change[] = [];
      for (let page = await feed(), after; page.items.length > 0; page = await feed(after)) {
        all.push(...page.items);
        after = page.next_cursor;
      }
      expect(all).toHaveLength(before + 120);
      expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
      expect(all.filter((e) => e.type === 'contact.updated')).toHaveLength(60);
      expect(seen.map((e) => e.seq)).toEqual(all.map((e) => e.seq));
    });
  },
);
