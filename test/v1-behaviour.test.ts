import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';
import { snapshot } from './support/snapshot.js';

describe.each(dialects)('the canonical API’s behaviour on %s', (dialect) => {
  let h: Harness;
  let auth: { authorization: string };

  beforeAll(async () => {
    h = await createHarness(dialect);
    auth = { authorization: h.a.owner.apiKey };
  });
  afterAll(() => h.close());

  describe('bad input', () => {
    it('answers every kind of bad contact with a 400 naming the field, and writes nothing', async () => {
      const cases: [unknown, string][] = [
        [{ name: 42 }, 'name'],
        [{ name: 'x'.repeat(201) }, 'name'],
        [{ phone: '0412 abc' }, 'phone'],
        [{ phone: '12' }, 'phone'],
        [{ phone: '+1 555' }, 'phone'],
        [{ email: 'not-an-email' }, 'email'],
        [{ channel: 'pigeon' }, 'channel'],
        [{ custom: { 'bad key!': 1 } }, 'custom.bad key!'],
        [{ custom: { nested: { no: true } } }, 'custom.nested'],
        [{ consent: { fax: 'subscribed' } }, 'consent.fax'],
        [{ unknown_field: 1 }, 'unknown_field'],
        [{ user_id: 'not-a-uuid' }, 'user_id'],
        [[{ name: 'array' }], 'body'],
      ];
      const before = await snapshot(h);
      for (const [payload, field] of cases) {
        const res = await h.a.send('POST', '/v1/contacts', payload);
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(
          res.json().errors?.map((e: { field: string }) => e.field) ?? [],
          JSON.stringify(payload),
        ).toContain(field);
      }
      expect(await snapshot(h)).toEqual(before);
    });

    it('refuses malformed JSON with 400, a huge body with 413 and a null body with 400', async () => {
      const malformed = await h.request({
        method: 'POST',
        url: '/v1/contacts',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: '{"name":',
      });
      expect(malformed.statusCode).toBe(400);
      expect(malformed.json().code).toBe('malformed');
      const huge = await h.a.send('POST', '/v1/contacts', {
        name: 'x',
        custom: { blob: 'y'.repeat(1_100_000) },
      });
      expect(huge.statusCode).toBe(413);
      const nothing = await h.request({
        method: 'POST',
        url: '/v1/contacts',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: 'null',
      });
      expect(nothing.statusCode).toBe(400);
    });

    it('refuses a body of a media type the route does not read with 415 naming those its requestBody declares, writing nothing', async () => {
      const doc = (await h.a.send('GET', '/openapi.json')).json();
      const declared = (url: string) => Object.keys(doc.paths[url].post.requestBody.content);
      expect(declared('/v1/imports')).toEqual(expect.arrayContaining(['text/csv', 'multipart/form-data']));
      const before = await snapshot(h);
      // The file upload, a JSON route, and a seed's route (the seeds share the classification, each in its own style).
      const routes: [string, (body: Record<string, unknown>) => unknown][] = [
        ['/v1/imports', (body) => body.detail],
        ['/v1/contacts', (body) => body.detail],
        ['/api/contact/new', (body) => (body.error as { message: string }).message],
      ];
      for (const [url, messageOf] of routes) {
        expect(doc.paths[url].post.responses['415'].headers, url).toHaveProperty('Accept');
        const res = await h.a.send('POST', url, '<contact/>', { 'content-type': 'application/xml' });
        expect(res.statusCode, url).toBe(415);
        expect(res.headers.accept, url).toBe(declared(url).join(', '));
        const message = String(messageOf(res.json()));
        expect(message, url).toMatch(/^Send the body as /);
        for (const type of declared(url)) expect(message, url).toContain(type);
        expect(message, url).not.toContain('application/xml');
      }
      const malformed = await h.a.send('POST', '/v1/contacts', 'x', { 'content-type': 'no media type' });
      expect(malformed.statusCode).toBe(415);
      expect(malformed.json().detail).toBe(
        'The Content-Type header is not a media type; send the body as application/json',
      );
      expect(await snapshot(h)).toEqual(before);
    });

    it('answers bad list parameters and ids with 4xx, never 5xx', async () => {
      for (const url of [
        '/v1/contacts?limit=0',
        '/v1/contacts?limit=5000',
        '/v1/contacts?cursor=garbage',
        '/v1/contacts?sort=phone',
        '/v1/contacts?consent=sms:maybe',
        '/v1/contacts?updated_since=yesterday',
        '/v1/contacts?phone=abc',
        '/v1/contacts/not-a-uuid',
        '/v1/groups/123',
        '/v1/contacts?group_id=01a20000-0000-7000-8000-000000000000',
      ]) {
        const res = await h.a.send('GET', url);
        expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, url).toBeLessThan(500);
      }
    });
  });

  describe('contacts', () => {
    it('keeps a given name as given and derives one from its parts otherwise', async () => {
      const derived = (
        await h.a.send('POST', '/v1/contacts', { first_name: 'Mary', last_name: 'Jackson' })
      ).json();
      expect(derived.name).toBe('Mary Jackson');
      const patched = await h.request({
        method: 'PATCH',
        url: `/v1/contacts/${derived.id}`,
        headers: auth,
        payload: { last_name: 'Winston' },
      });
      expect(patched.json().name).toBe('Mary Winston');
      const given = (await h.a.send('POST', '/v1/contacts', { name: 'DJ Mary', first_name: 'Mary' })).json();
      const renamed = await h.request({
        method: 'PATCH',
        url: `/v1/contacts/${given.id}`,
        headers: auth,
        payload: { first_name: 'Maria' },
      });
      expect(renamed.json().name).toBe('DJ Mary');
    });

    it('merges patches: absent stays, null clears, custom merges key by key', async () => {
      const c = (
        await h.a.send('POST', '/v1/contacts', { name: 'Merge', company: 'Acme', custom: { a: 1, b: 'two' } })
      ).json();
      const res = await h.request({
        method: 'PATCH',
        url: `/v1/contacts/${c.id}`,
        headers: { ...auth, 'content-type': 'application/merge-patch+json' },
        payload: JSON.stringify({ company: null, custom: { a: null, c: true } }),
      });
      expect(res.json()).toMatchObject({ name: 'Merge', company: null, custom: { b: 'two', c: true } });
      expect(res.json().custom).not.toHaveProperty('a');
      const put = await h.request({
        method: 'PUT',
        url: `/v1/contacts/${c.id}`,
        headers: auth,
        payload: { name: 'Replaced' },
      });
      expect(put.json()).toMatchObject({ name: 'Replaced', custom: {}, company: null });
    });

    it('keeps a number as typed through writes that leave it alone', async () => {
      const c = (await h.a.send('POST', '/v1/contacts', { name: 'Typed', phone: '0412 345 678' })).json();
      expect(c).toMatchObject({ phone: '+61412345678', phone_raw: '0412 345 678', phone_valid: true });
      const patch = (payload: object) =>
        h.request({ method: 'PATCH', url: `/v1/contacts/${c.id}`, headers: auth, payload });
      expect((await patch({ company: 'Acme' })).json()).toMatchObject({
        phone: '+61412345678',
        phone_raw: '0412 345 678',
        phone_valid: true,
      });
      expect((await h.a.send('GET', `/v1/contacts/${c.id}`)).json().phone_raw).toBe('0412 345 678');
      const retyped = (await patch({ phone: '+61 412 345 679' })).json();
      expect(retyped).toMatchObject({ phone: '+61412345679', phone_raw: '+61 412 345 679' });
    });

    it('answers a write with the contact exactly as a read then shows it', async () => {
      const created = await h.a.send('POST', '/v1/contacts', {
        first_name: 'Echo',
        phone: '0412 345 600',
        custom: { tier: 'gold', visits: 3 },
        external_ids: { crm: 'c-1' },
        consent: { whatsapp: 'subscribed' },
      });
      const read = await h.a.send('GET', `/v1/contacts/${created.json().id}`);
      expect(created.json()).toEqual(read.json());
      expect(created.headers.etag).toBe(read.headers.etag);
      const patched = await h.request({
        method: 'PATCH',
        url: `/v1/contacts/${created.json().id}`,
        headers: { ...auth, 'if-match': read.headers.etag as string },
        payload: { last_name: 'Again', custom: { visits: 4 }, consent: { email: 'unsubscribed' } },
      });
      const reread = await h.a.send('GET', `/v1/contacts/${created.json().id}`);
      expect(patched.json()).toEqual(reread.json());
      expect(patched.headers.etag).toBe(reread.headers.etag);
      expect(reread.json()).toMatchObject({ name: 'Echo Again', custom: { tier: 'gold', visits: 4 } });
      expect(Object.keys(reread.json().consent).sort()).toEqual(['email', 'whatsapp']);
    });

    it('refuses a second live contact with the same number, unless the organisation allows it', async () => {
      const first = (await h.a.send('POST', '/v1/contacts', { name: 'One', phone: '0412 700 800' })).json();
      const dup = await h.a.send('POST', '/v1/contacts', { name: 'Two', phone: '+61412700800' });
      expect(dup.statusCode).toBe(409);
      expect(dup.json()).toMatchObject({ code: 'duplicate_phone', existing_contact_id: first.id });
      const other = (await h.a.send('POST', '/v1/contacts', { name: 'Three', phone: '0412 700 801' })).json();
      expect(
        (
          await h.request({
            method: 'PATCH',
            url: `/v1/contacts/${other.id}`,
            headers: auth,
            payload: { phone: '0412700800' },
          })
        ).statusCode,
      ).toBe(409);

      await h.request({
        method: 'PATCH',
        url: '/v1/organisation',
        headers: auth,
        payload: { allow_duplicate_phones: true },
      });
      expect(
        (await h.a.send('POST', '/v1/contacts', { name: 'Two', phone: '+61412700800' })).statusCode,
      ).toBe(201);
      const back = await h.request({
        method: 'PATCH',
        url: '/v1/organisation',
        headers: auth,
        payload: { allow_duplicate_phones: false },
      });
      expect(back.statusCode).toBe(409);
    });

    it('soft-deletes, restores, and deletes permanently only for admins', async () => {
      const group = (await h.a.send('POST', '/v1/groups', { name: 'Soft' })).json();
      const c = (await h.a.send('POST', '/v1/contacts', { name: 'Soft', phone: '0412 900 900' })).json();
      await h.a.send('POST', `/v1/groups/${group.id}/members`, { contact_ids: [c.id] });
      expect(
        (await h.request({ method: 'DELETE', url: `/v1/contacts/${c.id}`, headers: auth })).statusCode,
      ).toBe(204);
      expect((await h.a.send('GET', `/v1/contacts/${c.id}`)).statusCode).toBe(404);
      expect((await h.a.send('GET', `/v1/groups/${group.id}`)).json().member_count).toBe(0);
      expect(
        (await h.a.send('GET', '/v1/contacts?deleted=only')).json().items.map((x: { id: string }) => x.id),
      ).toContain(c.id);
      const restored = await h.a.send('POST', `/v1/contacts/${c.id}/restore`, undefined);
      expect(restored.statusCode).toBe(200);
      expect((await h.a.send('GET', `/v1/groups/${group.id}`)).json().member_count).toBe(1);
      const editor = await h.a.addUser('editor');
      const forbidden = await h.request({
        method: 'DELETE',
        url: `/v1/contacts/${c.id}?permanent=true`,
        headers: { authorization: editor.apiKey },
      });
      expect(forbidden.statusCode).toBe(403);
      expect(
        (await h.request({ method: 'DELETE', url: `/v1/contacts/${c.id}?permanent=true`, headers: auth }))
          .statusCode,
      ).toBe(204);
      expect((await h.a.send('POST', `/v1/contacts/${c.id}/restore`, undefined)).statusCode).toBe(404);
      expect((await h.a.send('GET', `/v1/groups/${group.id}`)).json().member_count).toBe(0);
    });

    it('records consent per channel and filters by it', async () => {
      const c = (
        await h.a.send('POST', '/v1/contacts', {
          name: 'Consent',
          consent: { sms: 'subscribed', email: { status: 'unsubscribed', source: 'sms:STOP' } },
        })
      ).json();
      expect(c.consent.sms).toMatchObject({ status: 'subscribed', source: 'api' });
      expect(c.consent.email).toMatchObject({ status: 'unsubscribed', source: 'sms:STOP' });
      const subscribed = (await h.a.send('GET', '/v1/contacts?consent=sms:subscribed'))
        .json()
        .items.map((x: { id: string }) => x.id);
      expect(subscribed).toEqual([c.id]);
      const patched = await h.request({
        method: 'PATCH',
        url: `/v1/contacts/${c.id}`,
        headers: auth,
        payload: { company: 'No consent change' },
      });
      expect(patched.json().consent.sms.status).toBe('subscribed');
    });
  });

  describe('pagination and filters', () => {
    it('pages every sort without gaps or repeats', async () => {
      const fresh = await createHarness(dialect);
      try {
        const a = { authorization: fresh.a.owner.apiKey };
        const names = ['delta', 'alpha', 'echo', 'bravo', 'charlie', 'alpha', 'foxtrot'];
        for (const name of names)
          await fresh.request({ method: 'POST', url: '/v1/contacts', headers: a, payload: { name } });
        for (const [sort, order] of [
          ['name', 'asc'],
          ['created_at', 'asc'],
          ['created_at', 'desc'],
          ['updated_at', 'asc'],
        ]) {
          const seen: string[] = [];
          let cursor: string | null = null;
          do {
            const page: { items: { id: string; name: string }[]; next_cursor: string | null } = (
              await fresh.request({
                method: 'GET',
                url: `/v1/contacts?limit=2&sort=${sort}&order=${order}${cursor ? `&cursor=${cursor}` : ''}`,
                headers: a,
              })
            ).json();
            seen.push(...page.items.map((c) => c.name));
            cursor = page.next_cursor;
          } while (cursor);
          expect(seen.length, sort).toBe(names.length);
          if (sort === 'name') expect(seen).toEqual([...names].sort());
          if (sort === 'created_at') expect(seen).toEqual(order === 'asc' ? names : [...names].reverse());
        }
        const nameCursor = (
          await fresh.request({ method: 'GET', url: '/v1/contacts?limit=2&sort=name', headers: a })
        ).json().next_cursor;
        expect(
          (
            await fresh.request({
              method: 'GET',
              url: `/v1/contacts?sort=created_at&cursor=${nameCursor}`,
              headers: a,
            })
          ).statusCode,
        ).toBe(400);
      } finally {
        await fresh.close();
      }
    });

    it('filters by phone in any format, email, q and updated_since', async () => {
      const c = (
        await h.a.send('POST', '/v1/contacts', {
          first_name: 'Katherine',
          last_name: 'Coleman',
          company: 'NASA Langley',
          phone: '0412 321 321',
          email: 'KJ@Example.com',
        })
      ).json();
      for (const url of [
        '/v1/contacts?phone=%2B61412321321',
        '/v1/contacts?phone=0412-321-321',
        '/v1/contacts?email=kj@example.com',
        '/v1/contacts?q=kath%20cole',
        '/v1/contacts?q=langley',
        '/v1/contacts?q=0412321',
        '/v1/contacts?q=0412%20321%20321',
        '/v1/contacts?q=%2B61%20412%20321',
        `/v1/contacts?updated_since=${encodeURIComponent(c.updated_at)}&q=katherine`,
      ]) {
        expect(
          (await h.a.send('GET', url)).json().items.map((x: { id: string }) => x.id),
          url,
        ).toEqual([c.id]);
      }
      expect((await h.a.send('GET', '/v1/contacts?q=zzzunknown')).json().items).toEqual([]);
    });
  });

  describe('groups and members', () => {
    it('adds and removes members idempotently with exact counts, and refuses unknown ids whole', async () => {
      const group = (await h.a.send('POST', '/v1/groups', { name: 'Members' })).json();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++)
        ids.push((await h.a.send('POST', '/v1/contacts', { name: `Member ${i}` })).json().id);
      expect((await h.a.send('POST', `/v1/groups/${group.id}/members`, { contact_ids: ids })).json()).toEqual(
        {
          added: 3,
          already_members: 0,
          member_count: 3,
        },
      );
      expect((await h.a.send('POST', `/v1/groups/${group.id}/members`, { contact_ids: ids })).json()).toEqual(
        {
          added: 0,
          already_members: 3,
          member_count: 3,
        },
      );
      const unknown = await h.a.send('POST', `/v1/groups/${group.id}/members`, {
        contact_ids: [ids[0], '01a20000-0000-7000-8000-000000000000'],
      });
      expect(unknown.statusCode).toBe(400);
      const removed = await h.request({
        method: 'DELETE',
        url: `/v1/groups/${group.id}/members`,
        headers: auth,
        payload: { contact_ids: [ids[0], ids[0]] },
      });
      expect(removed.json()).toEqual({ removed: 1, not_members: 0, member_count: 2 });
      expect((await h.a.send('GET', `/v1/groups/${group.id}`)).json().member_count).toBe(2);
      expect(
        (
          await h.a.send('POST', `/v1/groups/${group.id}/members`, {
            contact_ids: Array.from({ length: 10_001 }, () => ids[0]),
          })
        ).statusCode,
      ).toBe(400);
    });

    it('keeps one default group and a name in step with its default-language translation', async () => {
      const first = (await h.a.send('POST', '/v1/groups', { name: 'First', is_default: true })).json();
      const second = (
        await h.a.send('POST', '/v1/groups', {
          translations: { en: { name: 'Second' }, fr: { name: 'Deuxième' } },
          is_default: true,
        })
      ).json();
      expect(second.name).toBe('Second');
      expect((await h.a.send('GET', `/v1/groups/${first.id}`)).json().is_default).toBe(false);
      const renamed = await h.request({
        method: 'PATCH',
        url: `/v1/groups/${second.id}`,
        headers: auth,
        payload: { name: 'Zweite' },
      });
      expect(renamed.json().translations).toMatchObject({ en: { name: 'Zweite' }, fr: { name: 'Deuxième' } });
    });
  });

  describe('ETags and idempotency', () => {
    it('refuses a stale If-Match with 412 and accepts the current one', async () => {
      const c = await h.a.send('POST', '/v1/contacts', { name: 'Etag' });
      const etag = c.headers.etag as string;
      const ok = await h.request({
        method: 'PATCH',
        url: `/v1/contacts/${c.json().id}`,
        headers: { ...auth, 'if-match': etag },
        payload: { company: 'A' },
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers.etag).toBe('"2"');
      for (const method of ['PATCH', 'PUT', 'DELETE'] as const) {
        const stale = await h.request({
          method,
          url: `/v1/contacts/${c.json().id}`,
          headers: { ...auth, 'if-match': etag },
          payload: { company: 'B' },
        });
        expect(stale.statusCode, method).toBe(412);
      }
      expect((await h.a.send('GET', `/v1/contacts/${c.json().id}`)).json().company).toBe('A');
    });

    it('requires If-Match when configured to', async () => {
      const strict = await createHarness(dialect, { requireIfMatch: true });
      try {
        const a = { authorization: strict.a.owner.apiKey };
        const c = await strict.request({
          method: 'POST',
          url: '/v1/contacts',
          headers: a,
          payload: { name: 'Strict' },
        });
        const without = await strict.request({
          method: 'PATCH',
          url: `/v1/contacts/${c.json().id}`,
          headers: a,
          payload: { company: 'x' },
        });
        expect(without.statusCode).toBe(428);
        const withIt = await strict.request({
          method: 'PATCH',
          url: `/v1/contacts/${c.json().id}`,
          headers: { ...a, 'if-match': c.headers.etag as string },
          payload: { company: 'x' },
        });
        expect(withIt.statusCode).toBe(200);
      } finally {
        await strict.close();
      }
    });

    it('replays a POST with the same Idempotency-Key and refuses the key with another body', async () => {
      const key = { 'idempotency-key': `key-${dialect}` };
      const first = await h.a.send('POST', '/v1/contacts', { name: 'Once', phone: '0412 010 010' }, key);
      const again = await h.a.send('POST', '/v1/contacts', { name: 'Once', phone: '0412 010 010' }, key);
      expect(again.statusCode).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json()).toEqual(first.json());
      expect((await h.a.send('GET', '/v1/contacts?q=once')).json().items).toHaveLength(1);
      expect((await h.a.send('POST', '/v1/contacts', { name: 'Other' }, key)).statusCode).toBe(422);
      const failed = await h.a.send(
        'POST',
        '/v1/contacts',
        { phone: 'bad' },
        { 'idempotency-key': 'retry-me' },
      );
      expect(failed.statusCode).toBe(400);
      expect(
        (await h.a.send('POST', '/v1/contacts', { name: 'Retried' }, { 'idempotency-key': 'retry-me' }))
          .statusCode,
      ).toBe(201);
    });
  });

  describe('abandoned idempotency keys', () => {
    it('frees a key whose request never finished once it is old enough to be abandoned', async () => {
      const actor = {
        ...(await h.services.auth.verifyBearer(h.a.owner.apiKey.slice('Bearer '.length))),
        surface: 'v1' as const,
      };
      const request = { method: 'POST', url: '/v1/contacts', body: { name: 'Orphan' } };
      expect(await h.services.idempotency.begin(actor, 'died-mid-request', request)).toBeUndefined();
      await expect(h.services.idempotency.begin(actor, 'died-mid-request', request)).rejects.toMatchObject({
        code: 'idempotency_in_progress',
      });
      // As if the process had died ten minutes ago, before recording a response.
      await h.store
        .scope(h.a.org.id)
        .updateTable('idempotency_keys')
        .set({ created_at: Date.now() - 10 * 60 * 1000 })
        .where('idempotency_key', '=', 'died-mid-request')
        .execute();
      const retry = await h.a.send(
        'POST',
        '/v1/contacts',
        { name: 'Orphan' },
        { 'idempotency-key': 'died-mid-request' },
      );
      expect(retry.statusCode).toBe(201);
    });
  });

  describe('auth', () => {
    it('issues, rotates and revokes tokens, and spots a replayed refresh token', async () => {
      const login = await h.request({
        method: 'POST',
        url: '/v1/auth/token',
        payload: { username: h.a.owner.username, password: h.a.owner.password },
      });
      expect(login.json()).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
      const first = login.json().refresh_token;
      const rotated = await h.request({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refresh_token: first },
      });
      expect(rotated.statusCode).toBe(200);
      const second = rotated.json().refresh_token;
      expect(
        (
          await h.request({
            method: 'GET',
            url: '/v1/organisation',
            headers: { authorization: `Bearer ${rotated.json().access_token}` },
          })
        ).statusCode,
      ).toBe(200);
      expect(
        (await h.request({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: first } }))
          .statusCode,
      ).toBe(401);
      expect(
        (await h.request({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token: second } }))
          .statusCode,
      ).toBe(401);
      const again = await h.request({
        method: 'POST',
        url: '/v1/auth/token',
        payload: { username: h.a.owner.username, password: h.a.owner.password },
      });
      expect(
        (
          await h.request({
            method: 'POST',
            url: '/v1/auth/logout',
            payload: { refresh_token: again.json().refresh_token },
          })
        ).statusCode,
      ).toBe(204);
      expect(
        (
          await h.request({
            method: 'POST',
            url: '/v1/auth/refresh',
            payload: { refresh_token: again.json().refresh_token },
          })
        ).statusCode,
      ).toBe(401);
      expect(
        (
          await h.request({
            method: 'POST',
            url: '/v1/auth/token',
            payload: { username: h.a.owner.username, password: 'wrong' },
          })
        ).statusCode,
      ).toBe(401);
    });

    it('stops a disabled user’s credentials and a revoked key at once', async () => {
      const user = await h.a.addUser('editor', 'leaver');
      expect(
        (await h.request({ method: 'GET', url: '/v1/contacts', headers: { authorization: user.basic } }))
          .statusCode,
      ).toBe(200);
      await h.request({
        method: 'PATCH',
        url: `/v1/users/${user.user.id}`,
        headers: auth,
        payload: { is_active: false },
      });
      for (const authorization of [user.basic, user.apiKey, user.jwt]) {
        expect(
          (await h.request({ method: 'GET', url: '/v1/contacts', headers: { authorization } })).statusCode,
        ).toBe(401);
      }
      // A key of its own to revoke: the owner's is every other test's credential.
      const spare = (await h.a.send('POST', '/v1/api-keys', { name: 'spare key' })).json();
      expect((await h.a.send('DELETE', `/v1/api-keys/${spare.id}`)).statusCode).toBe(200);
      const refused = await h.request({
        method: 'GET',
        url: '/v1/contacts',
        headers: { authorization: `Bearer ${spare.key}` },
      });
      expect(refused.statusCode).toBe(401);
      const keys = (await h.a.send('GET', '/v1/api-keys')).json().items;
      const revoked = keys.find((k: { id: string }) => k.id === spare.id);
      expect(revoked.revoked_at).not.toBeNull();
      expect(JSON.stringify(keys)).not.toContain(spare.key);
    });

    it('will not let users raise themselves or remove the last owner', async () => {
      const admin = await h.a.addUser('admin', 'climber');
      expect(
        (
          await h.request({
            method: 'PATCH',
            url: `/v1/users/${admin.user.id}`,
            headers: { authorization: admin.basic },
            payload: { role: 'owner' },
          })
        ).statusCode,
      ).toBe(403);
      expect(
        (
          await h.request({
            method: 'POST',
            url: '/v1/users',
            headers: { authorization: admin.basic },
            payload: { username: `own-${dialect}`, password: 'long enough pw', role: 'owner' },
          })
        ).statusCode,
      ).toBe(403);
      const demote = await h.request({
        method: 'PATCH',
        url: `/v1/users/${h.a.owner.user.id}`,
        headers: { authorization: h.b.owner.basic },
        payload: { role: 'viewer' },
      });
      expect(demote.statusCode).toBe(404);
    });
  });

  describe('documents', () => {
    it('serves OpenAPI 3.1 with every /v1 operation, interactive docs and health checks', async () => {
      const doc = (await h.request({ method: 'GET', url: '/openapi.json' })).json();
      expect(doc.openapi).toBe('3.1.0');
      for (const path of [
        '/v1/contacts',
        '/v1/contacts/{id}',
        '/v1/groups/{id}/members',
        '/v1/auth/token',
        '/v1/api-keys',
        '/v1/organisation',
      ])
        expect(doc.paths, path).toHaveProperty([path]);
      expect((await h.request({ method: 'GET', url: '/docs/' })).headers['content-type']).toContain(
        'text/html',
      );
      expect((await h.request({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
      expect((await h.request({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
    });
  });
});
