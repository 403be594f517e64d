import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

/** U+0000 cannot be stored by PostgreSQL; found by the fuzz suite as a 500 there. */
describe.each(dialects)('text with a NUL character on %s', (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(async () => {
    await h.close();
  });

  it('is refused with 400 on every surface, naming the field, and writes nothing', async () => {
    const auth = { authorization: h.a.owner.apiKey };
    const before = (await h.request({ method: 'GET', url: '/v1/contacts', headers: auth })).json().items;
    const v1 = await h.request({
      method: 'POST',
      url: '/v1/contacts',
      headers: auth,
      payload: { name: 'a\u0000b' },
    });
    expect(v1.statusCode).toBe(400);
    expect(v1.json().errors).toEqual([
      { field: 'name', message: 'must not contain the NUL character (U+0000)' },
    ]);
    const query = await h.request({ method: 'GET', url: '/v1/contacts?q=a%00', headers: auth });
    expect(query.json().errors[0].field).toBe('querystring.q');
    const seed = await h.request({
      method: 'POST',
      url: '/api/contact/new',
      headers: auth,
      payload: { group_id: 1, phone_number: '+61412345678', custom_1: 'x\u0000' },
    });
    expect(seed.statusCode).toBe(400);
    expect(seed.json().error.field).toBe('custom_1');
    expect((await h.request({ method: 'GET', url: '/v1/contacts', headers: auth })).json().items).toEqual(
      before,
    );
  });

  it('in a Basic credential is a malformed credential (401), not a lookup', async () => {
    const basic = 'Basic ' + Buffer.from(`${h.a.owner.username}\u0000:x`).toString('base64');
    const res = await h.request({ method: 'GET', url: '/v1/contacts', headers: { authorization: basic } });
    expect(res.statusCode).toBe(401);
  });
});
