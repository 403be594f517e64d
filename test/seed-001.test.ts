import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromObjectId } from '../src/domain/ids.js';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

const CONTACT_KEYS = [
  '__v',
  '_id',
  'channel',
  'client_id',
  'createdAt',
  'group_id',
  'name',
  'number',
  'transaction',
  'updatedAt',
];
const GROUP_KEYS = ['__v', '_id', 'client_id', 'createdAt', 'is_default', 'title', 'updatedAt'];
const HEX24 = /^[0-9a-f]{24}$/;
// As the document's curl calls send it: --data without a Content-Type header.
const CURL_FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe.each(dialects)('seed 001, messaging contacts and groups, on %s', (dialect) => {
  let h: Harness;
  let token: string;
  const send = (
    method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    body: object = {},
    headers: Record<string, string> = CURL_FORM,
  ) =>
    h.request({
      method,
      url,
      headers,
      payload: JSON.stringify({ session_id: '', access_token: token, ...body }),
    });

  beforeAll(async () => {
    h = await createHarness(dialect, {});
    await h.request({
      method: 'PATCH',
      url: '/v1/organisation',
      headers: { authorization: h.a.owner.basic },
      payload: { default_country: 'NG' },
    });
    token = h.a.owner.jwt.slice('Bearer '.length);
  });
  afterAll(() => h.close());

  it('creates a group and a contact in it as the document does, with the token in the body', async () => {
    const group = await send('POST', '/contact_groups', { title: 'Group Name' });
    expect(group.statusCode).toBe(200);
    expect(group.json()).toMatchObject({ status: true, message: 'ContactGroup group created successfully!' });
    expect(Object.keys(group.json().data).sort()).toEqual(GROUP_KEYS);
    expect(group.json().data).toMatchObject({ is_default: false, title: 'Group Name', __v: 0 });
    const groupId = group.json().data._id;
    expect(groupId).toMatch(HEX24);

    // curl --header 'x-refresh;' sends the header empty.
    const contact = await send(
      'POST',
      '/contact',
      { name: 'Banky', number: '2347063516620', group_id: groupId },
      { ...CURL_FORM, 'x-refresh': '' },
    );
    expect(contact.statusCode).toBe(200);
    const data = contact.json().data;
    expect(Object.keys(data).sort()).toEqual(CONTACT_KEYS);
    expect(data).toMatchObject({
      name: 'Banky',
      number: '2347063516620',
      group_id: groupId,
      channel: 'whatsapp',
      transaction: { survey_id: null, survey_sort_id: null },
      __v: 0,
    });
    expect(data.client_id).toMatch(HEX24);
    expect(data._id).toMatch(HEX24);
  });

  it('keeps the survey state sent as transaction', async () => {
    const transaction = { survey_id: 'welcome', survey_sort_id: 2 };
    const res = await send('POST', '/contact', { name: 'Surveyed', number: '08034445555', transaction });
    expect(res.statusCode).toBe(200);
    const { _id } = res.json().data;
    expect((await send('GET', `/contact/${_id}`)).json().data.transaction).toEqual(transaction);
  });

  it('reads a local number in the organisation’s country and shows digits without the plus', async () => {
    const res = await send('POST', '/contact', { name: 'Local', number: '0803 123 4567' });
    expect(res.json().data.number).toBe('2348031234567');
  });

  it('round-trips ids: an _id from the list opens the same record, and /v1 shows the same contact', async () => {
    const list = await send('GET', '/contact?type=all');
    expect(list.json()).toMatchObject({ status: true, message: 'Contact fetched successfully!' });
    const first = list.json().data[0];
    const one = await send('GET', `/contact/${first._id}`);
    expect(one.json().data).toEqual(first);
    const v1 = await h.request({
      method: 'GET',
      url: `/v1/contacts?phone=%2B${first.number}`,
      headers: { authorization: h.a.owner.basic },
    });
    expect(v1.json().items).toHaveLength(1);
    expect(v1.json().items[0]).toMatchObject({ name: first.name, channel: 'whatsapp' });
    expect(fromObjectId('contact', first._id)).toBeGreaterThan(0);
  });

  it('answers a HEAD with the token in the body as its GET, without the body', async () => {
    const { _id } = (await send('POST', '/contact', { name: 'Headed', number: '08034446666' })).json().data;
    for (const url of ['/contact?type=all', `/contact/${_id}`]) {
      const [get, head] = [await send('GET', url), await send('HEAD', url)];
      expect(get.statusCode, url).toBe(200);
      expect(head.statusCode, url).toBe(200);
      expect(head.headers['content-length'], url).toBe(get.headers['content-length']);
      expect(head.body, url).toBe('');
    }
  });

  it('tells my contacts from all of the organisation’s, newest first', async () => {
    const editor = await h.a.addUser('editor');
    const editorToken = editor.apiKey.slice('Bearer '.length);
    await h.request({
      method: 'POST',
      url: '/contact',
      headers: CURL_FORM,
      payload: JSON.stringify({ access_token: editorToken, name: 'Editor’s', number: '08031112222' }),
    });
    const mine = (await send('GET', '/contact')).json().data.map((c: { name: string }) => c.name);
    const all = (await send('GET', '/contact?type=all')).json().data.map((c: { name: string }) => c.name);
    expect(mine).not.toContain('Editor’s');
    expect(all[0]).toBe('Editor’s');
    expect(all).toEqual(expect.arrayContaining(mine));
  });

  it('pages a long list with limit and the x-next-cursor header, newest first throughout', async () => {
    for (let i = 0; i < 5; i++)
      await send('POST', '/contact', { name: `Pager ${i}`, number: `0803777000${i}` });
    const all = (await send('GET', '/contact?type=all')).json().data.map((c: { _id: string }) => c._id);
    const first = await send('GET', '/contact?type=all&limit=2');
    const cursor = first.headers['x-next-cursor'] as string;
    expect(cursor).toBeTruthy();
    const second = await send('GET', `/contact?type=all&limit=2&cursor=${encodeURIComponent(cursor)}`);
    const paged = [...first.json().data, ...second.json().data].map((c: { _id: string }) => c._id);
    expect(paged).toEqual(all.slice(0, 4));
  });

  it('updates name, number and group, ignoring the title, keyword and reply the document’s example carries', async () => {
    const from = (await send('POST', '/contact_groups', { title: 'From' })).json().data._id;
    const to = (await send('POST', '/contact_groups', { title: 'To' })).json().data._id;
    const id = (
      await send('POST', '/contact', { name: 'Mover', number: '08035556666', group_id: from })
    ).json().data._id;
    const res = await send('PUT', `/contact/${id}`, {
      title: 'Greetings Msgs',
      keyword: 'hello,hi,cool',
      reply: 'How are you doing?!',
      name: 'Moved',
      group_id: to,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: true, data: { name: 'Moved', group_id: to, __v: 1 } });
    const ignored = await send('PUT', `/contact/${id}`, {
      title: 'Greetings Msgs',
      keyword: 'hello,hi,cool',
      reply: 'How are you doing?!',
    });
    expect(ignored.json().data).toMatchObject({ name: 'Moved', group_id: to });
  });

  it('refuses a bad number or unknown group on update and leaves the contact as it was', async () => {
    const group = (await send('POST', '/contact_groups', { title: 'Stay' })).json().data._id;
    const created = (
      await send('POST', '/contact', { name: 'Steady', number: '08036667777', group_id: group })
    ).json().data;
    const badNumber = await send('PUT', `/contact/${created._id}`, { name: 'Changed', number: 'status' });
    expect(badNumber.statusCode).toBe(400);
    expect(badNumber.json()).toEqual({ status: false, message: expect.any(String) });
    const unknownGroup = await send('PUT', `/contact/${created._id}`, {
      name: 'Changed',
      group_id: '64a000000000000000000fff',
    });
    expect(unknownGroup.statusCode).toBe(404);
    expect((await send('GET', `/contact/${created._id}`)).json().data).toEqual(created);

    const ungrouped = await send('PUT', `/contact/${created._id}`, { group_id: null });
    expect(ungrouped.json().data.group_id).toBeNull();
  });

  it('reads, renames and deletes groups with the document’s messages and delete result', async () => {
    const id = (await send('POST', '/contact_groups', { title: 'Temp' })).json().data._id;
    expect((await send('GET', `/contact_groups/${id}`)).json()).toMatchObject({
      message: 'ContactGroup group fetched successfully!',
      data: { _id: id },
    });
    const renamed = await send('PUT', `/contact_groups/${id}`, { title: 'Updated Group Name' });
    expect(renamed.json()).toMatchObject({
      message: 'ContactGroup group updated successfully!',
      data: { title: 'Updated Group Name', __v: 1 },
    });
    const mine = (await send('GET', '/contact_groups')).json();
    expect(mine.data.map((g: { _id: string }) => g._id)).toContain(id);
    const deleted = await send('DELETE', `/contact_groups/${id}`);
    expect(deleted.json()).toEqual({
      status: true,
      message: 'ContactGroup group deleted successfully!',
      data: { n: 1, ok: 1, deletedCount: 1 },
    });
    expect((await send('GET', `/contact_groups/${id}`)).statusCode).toBe(404);
  });

  it('deletes a contact, with the token in a DELETE body', async () => {
    const id = (await send('POST', '/contact', { name: 'Gone', number: '08037778888' })).json().data._id;
    const res = await send('DELETE', `/contact/${id}`);
    expect(res.json()).toMatchObject({ status: true, data: { n: 1, ok: 1, deletedCount: 1 } });
    const again = await send('GET', `/contact/${id}`);
    expect(again.statusCode).toBe(404);
    expect(again.json()).toEqual({ status: false, message: expect.any(String) });
  });

  it('accepts the token in the Authorization header, with or without a body', async () => {
    const bare = await h.request({
      method: 'GET',
      url: '/contact?type=all',
      headers: { authorization: h.a.owner.apiKey },
    });
    expect(bare.statusCode).toBe(200);
    const json = await h.request({
      method: 'POST',
      url: '/contact_groups',
      headers: { authorization: h.a.owner.apiKey, 'content-type': 'application/json' },
      payload: JSON.stringify({ session_id: 'ignored', access_token: '', title: 'Header' }),
    });
    expect(json.statusCode).toBe(200);
  });

  it('reads the body token as JSON without a Content-Type, or as a form', async () => {
    // A Buffer payload goes out with no Content-Type header at all.
    const untyped = await h.request({
      method: 'POST',
      url: '/contact_groups',
      payload: Buffer.from(JSON.stringify({ access_token: token, title: 'Untyped' })),
    });
    expect(untyped.json()).toMatchObject({ status: true, data: { title: 'Untyped' } });
    const form = await h.request({
      method: 'POST',
      url: '/contact_groups',
      headers: CURL_FORM,
      payload: new URLSearchParams({ access_token: token, title: 'From a form' }).toString(),
    });
    expect(form.json()).toMatchObject({ status: true, data: { title: 'From a form' } });
    const broken = await h.request({
      method: 'GET',
      url: '/contact',
      headers: CURL_FORM,
      payload: '{"access_token":',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json()).toEqual({ status: false, message: expect.any(String) });
  });

  it('refuses an invalid number or group with 400 in its own style and writes nothing', async () => {
    const before = (await send('GET', '/contact?type=all')).json().data.length;
    const bad = await send('POST', '/contact', { name: 'Bad', number: '{Hi|Hello} [name]' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ status: false, message: expect.stringContaining('phone') });
    const badGroup = await send('POST', '/contact', {
      name: 'Bad group',
      number: '08039990000',
      group_id: 'not-a-group',
    });
    expect(badGroup.statusCode).toBe(400);
    const unknownGroup = await send('POST', '/contact', {
      name: 'Unknown group',
      number: '08039990000',
      group_id: '64a000000000000000000fff',
    });
    expect(unknownGroup.statusCode).toBe(404);
    expect((await send('GET', '/contact?type=all')).json().data.length).toBe(before);
  });

  it('lets a viewer read but not write, with 403 in its own style', async () => {
    const viewer = (await h.a.addUser('viewer')).apiKey.slice('Bearer '.length);
    const as = (method: 'GET' | 'POST', url: string, body: object = {}) =>
      h.request({
        method,
        url,
        headers: CURL_FORM,
        payload: JSON.stringify({ access_token: viewer, ...body }),
      });
    expect((await as('GET', '/contact?type=all')).statusCode).toBe(200);
    const write = await as('POST', '/contact_groups', { title: 'Not allowed' });
    expect(write.statusCode).toBe(403);
    expect(write.json()).toEqual({ status: false, message: expect.any(String) });
  });

  it('keeps other organisations out with a 404', async () => {
    const id = (await send('POST', '/contact', { name: 'Private', number: '08031212121' })).json().data._id;
    const other = h.b.owner.apiKey.slice('Bearer '.length);
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const res = await h.request({
        method,
        url: `/contact/${id}`,
        headers: CURL_FORM,
        payload: JSON.stringify({ access_token: other, name: 'Hacked' }),
      });
      expect(res.statusCode, method).toBe(404);
      expect(res.body).not.toContain('Private');
    }
    const group = (await send('POST', '/contact_groups', { title: 'Private group' })).json().data._id;
    const foreignGroup = await h.request({
      method: 'GET',
      url: `/contact_groups/${group}`,
      headers: { authorization: h.b.owner.apiKey },
    });
    expect(foreignGroup.statusCode).toBe(404);
    const theirs = await h.request({
      method: 'GET',
      url: '/contact?type=all',
      headers: { authorization: h.b.owner.apiKey },
    });
    expect(theirs.body).not.toContain('Private');
  });

  it('requires a token, and renews an expired one from x-refresh', async () => {
    const none = await h.request({
      method: 'GET',
      url: '/contact',
      headers: CURL_FORM,
      payload: JSON.stringify({ session_id: '', access_token: '' }),
    });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ status: false, message: expect.any(String) });

    const short = await createHarness(dialect, {});
    try {
      const login = await short.request({
        method: 'POST',
        url: '/v1/auth/token',
        payload: { username: short.a.owner.username, password: short.a.owner.password },
      });
      const { refresh_token } = login.json();
      const expired = await expiredToken(short, login.json().access_token);
      const refused = await short.request({
        method: 'GET',
        url: '/contact',
        headers: { authorization: `Bearer ${expired}` },
      });
      expect(refused.statusCode).toBe(401);
      const renewed = await short.request({
        method: 'GET',
        url: '/contact',
        headers: { authorization: `Bearer ${expired}`, 'x-refresh': refresh_token },
      });
      expect(renewed.statusCode).toBe(200);
      expect(renewed.headers['x-access-token']).toBeTruthy();
      expect(renewed.headers['x-refresh-token']).not.toBe(refresh_token);
      const renewedToken = { authorization: `Bearer ${renewed.headers['x-access-token']}` };
      const next = await short.request({ method: 'GET', url: '/contact', headers: renewedToken });
      expect(next.statusCode).toBe(200);
      const replayed = await short.request({
        method: 'GET',
        url: '/contact',
        headers: { authorization: `Bearer ${expired}`, 'x-refresh': refresh_token },
      });
      expect(replayed.statusCode).toBe(401);
      // A replayed refresh token means it was stolen: the session it renewed ends too.
      const after = await short.request({ method: 'GET', url: '/contact', headers: renewedToken });
      expect(after.statusCode).toBe(401);
    } finally {
      await short.close();
    }
  });

  it('lists its routes under their own tag in the OpenAPI document', async () => {
    const doc = (await h.request({ method: 'GET', url: '/openapi.json' })).json();
    const routes = ['/contact', '/contact/{id}', '/contact_groups', '/contact_groups/{id}'].flatMap((path) =>
      Object.values(doc.paths[path] as Record<string, { tags: string[] }>),
    );
    expect(routes).toHaveLength(10);
    for (const route of routes) expect(route.tags).toEqual(['Seed 001: messaging contacts']);
  });
});

/** The same token signed with an expiry in the past, using the server's own key. */
async function expiredToken(h: Harness, token: string): Promise<string> {
  const { SignJWT, decodeJwt } = await import('jose');
  const { getSetting } = await import('../src/db/repositories/instance.js');
  const secret = new TextEncoder().encode(await getSetting(h.store.db, 'jwt_secret'));
  const claims = decodeJwt(token);
  const past = Math.floor(Date.now() / 1000) - 3600;
  return new SignJWT({ ...claims, iat: past - 60, nbf: past - 60, exp: past })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(secret);
}
