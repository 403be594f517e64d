import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

const RACERS = 50;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

describe.each(dialects)('concurrent writes on %s', (dialect) => {
  let h: Harness;
  let base: string;
  let auth: { authorization: string };

  /** Over a real socket, so the requests overlap in the server and on PostgreSQL's pool. */
  const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: { ...auth, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} } as Answer;
  };

  /** RACERS PATCHes of one resource at once, all with the ETag read before: each sets `field` to its own value. */
  async function race(path: string, field: string) {
    const read = await fetch(base + path, { headers: auth });
    const etag = read.headers.get('etag')!;
    const answers = await Promise.all(
      Array.from({ length: RACERS }, (_, i) =>
        send('PATCH', path, { [field]: `racer ${i}` }, { 'if-match': etag }),
      ),
    );
    const winners = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 412);
    const stored = (await send('GET', path)).body;
    console.log(
      `[${dialect}] ${RACERS} concurrent PATCH ${path.split('/')[2]} with If-Match ${etag}: ` +
        `${winners.length} x 200, ${refused.length} x 412, others ${RACERS - winners.length - refused.length}`,
    );
    return { winners, refused, stored };
  }

  beforeAll(async () => {
    h = await createHarness(dialect);
    auth = { authorization: h.a.owner.apiKey };
    const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
    base = address;
  });
  afterAll(() => h.close());

  it('lets exactly one of 50 PATCHes of a contact with the same If-Match win, and stores the winner', async () => {
    const contact = (await send('POST', '/v1/contacts', { name: 'Raced', company: 'start' })).body;
    const { winners, refused, stored } = await race(`/v1/contacts/${contact.id}`, 'company');
    expect(winners).toHaveLength(1);
    expect(refused).toHaveLength(RACERS - 1);
    expect(refused.every((a) => a.body.code === 'precondition_failed')).toBe(true);
    expect(stored.company).toBe(winners[0]!.body.company);
    expect(stored.version).toBe(2);
  });

  it('lets exactly one of 50 PATCHes of a group with the same If-Match win, and stores the winner', async () => {
    const group = (await send('POST', '/v1/groups', { name: 'Raced group' })).body;
    const { winners, refused, stored } = await race(`/v1/groups/${group.id}`, 'name');
    expect(winners).toHaveLength(1);
    expect(refused).toHaveLength(RACERS - 1);
    expect(stored.name).toBe(winners[0]!.body.name);
    expect(stored.version).toBe(2);
  });

  /** RACERS DELETEs of one resource at once with If-Match "1": the statuses, counted. */
  async function deleteRace(path: string) {
    const answers = await Promise.all(
      Array.from({ length: RACERS }, () => send('DELETE', path, undefined, { 'if-match': '"1"' })),
    );
    const count = (status: number) => answers.filter((a) => a.status === status).length;
    console.log(
      `[${dialect}] ${RACERS} concurrent DELETE ${path.split('/')[2]} with If-Match "1": ` +
        `${count(204)} x 204, ${count(412)} x 412, ${count(404)} x 404`,
    );
    return { count, others: RACERS - count(204) - count(412) - count(404) };
  }

  it('deletes a member contact once when 50 DELETEs race, and counts it out of its group once', async () => {
    const group = (await send('POST', '/v1/groups', { name: 'Counted' })).body;
    const members = [];
    for (const name of ['Stays', 'Goes']) members.push((await send('POST', '/v1/contacts', { name })).body);
    await send('POST', `/v1/groups/${group.id}/members`, { contact_ids: members.map((m) => m.id) });
    const { count, others } = await deleteRace(`/v1/contacts/${members[1]!.id}`);
    expect(count(204)).toBe(1);
    expect(others).toBe(0);
    expect((await send('GET', `/v1/groups/${group.id}`)).body.member_count).toBe(1);
  });

  it('deletes a group once when 50 DELETEs race', async () => {
    const group = (await send('POST', '/v1/groups', { name: 'Deleted once' })).body;
    const { count, others } = await deleteRace(`/v1/groups/${group.id}`);
    expect(count(204)).toBe(1);
    expect(others).toBe(0);
  });

  it('creates one contact when 20 creates with one phone number race; the others get 409 duplicate_phone', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        send('POST', '/v1/contacts', { name: `Twin ${i}`, phone: '0412 777 000' }),
      ),
    );
    const count = (status: number) => answers.filter((a) => a.status === status).length;
    console.log(
      `[${dialect}] 20 concurrent creates with one phone: ${count(201)} x 201, ${count(409)} x 409, others ${20 - count(201) - count(409)}`,
    );
    expect(count(201)).toBe(1);
    expect(count(409)).toBe(19);
    const winner = answers.find((a) => a.status === 201)!.body;
    expect(
      answers.filter((a) => a.status === 409).every((a) => a.body.existing_contact_id === winner.id),
    ).toBe(true);
  });

  describe('with If-Match required', () => {
    let strict: Harness;
    beforeAll(async () => {
      strict = await createHarness(dialect, { requireIfMatch: true });
    });
    afterAll(() => strict.close());

    it('answers every conditional write without If-Match with 428 and changes nothing', async () => {
      const owner = { authorization: strict.a.owner.apiKey };
      const inject = (method: 'POST' | 'GET' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
        strict.request({ method, url, headers: owner, ...(payload && { payload }) });
      const contact = (await inject('POST', '/v1/contacts', { name: 'Strict' })).json();
      const group = (await inject('POST', '/v1/groups', { name: 'Strict group' })).json();
      const editor = await strict.a.addUser('editor');
      const writes: [method: 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object][] = [
        ['PUT', `/v1/contacts/${contact.id}`, { name: 'Changed' }],
        ['PATCH', `/v1/contacts/${contact.id}`, { name: 'Changed' }],
        ['DELETE', `/v1/contacts/${contact.id}`],
        ['PUT', `/v1/groups/${group.id}`, { name: 'Changed' }],
        ['PATCH', `/v1/groups/${group.id}`, { name: 'Changed' }],
        ['DELETE', `/v1/groups/${group.id}`],
        ['PATCH', '/v1/organisation', { name: 'Changed' }],
        ['PATCH', `/v1/users/${editor.user.id}`, { display_name: 'Changed' }],
      ];
      const statuses = [];
      for (const [method, url, payload] of writes) {
        const res = await inject(method, url, payload);
        expect(res.statusCode, `${method} ${url}`).toBe(428);
        expect(res.json().code).toBe('precondition_required');
        statuses.push(res.statusCode);
      }
      console.log(
        `[${dialect}] requireIfMatch: ${statuses.filter((s) => s === 428).length} of ${writes.length} writes without If-Match got 428`,
      );
      for (const url of [
        `/v1/contacts/${contact.id}`,
        `/v1/groups/${group.id}`,
        `/v1/users/${editor.user.id}`,
      ]) {
        const read = await inject('GET', url);
        expect(read.json().version, url).toBe(1);
      }
      expect((await inject('GET', '/v1/organisation')).json().name).toBe('Acme');
      const withIt = await strict.request({
        method: 'PATCH',
        url: `/v1/users/${editor.user.id}`,
        headers: { ...owner, 'if-match': '"1"' },
        payload: { display_name: 'Changed' },
      });
      expect(withIt.statusCode).toBe(200);
    });
  });
});
