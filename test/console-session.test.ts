import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_ROOT } from '../src/http/console.js';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

const CONSOLE = { 'x-roster-console': '1' };
const sessionCookie = (res: LightMyRequestResponse) => res.cookies.find((c) => c.name === 'roster_session');

for (const dialect of dialects) {
  describe(`the console's session and pages (${dialect})`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness(dialect);
    });
    afterAll(() => h.close());

    const signIn = (headers: Record<string, string> = CONSOLE) =>
      h.request({
        method: 'POST',
        url: '/v1/console/session',
        headers,
        payload: { username: h.a.owner.username, password: h.a.owner.password },
      });

    it('signs in with the refresh token in an HttpOnly, SameSite=Strict cookie, not in the body', async () => {
      const res = await signIn();
      expect(res.statusCode).toBe(200);
      expect(Object.keys(res.json()).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
      const cookie = sessionCookie(res)!;
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/v1/console/session' });
      expect(cookie.secure).toBeUndefined();
      const me = await h.request({
        method: 'GET',
        url: '/v1/organisation',
        headers: { authorization: `Bearer ${res.json().access_token}` },
      });
      expect(me.json().id).toBe(h.a.org.id);
    });

    it('refuses cross-site requests: no console header, or an Origin of another site', async () => {
      const bare = await signIn({});
      expect(bare.statusCode).toBe(403);
      expect(bare.json().detail).toBe('This endpoint serves the console of this server only');
      expect(sessionCookie(bare)).toBeUndefined();
      const foreign = await signIn({ ...CONSOLE, origin: 'https://evil.example' });
      expect(foreign.statusCode).toBe(403);
      const own = await signIn({ ...CONSOLE, origin: 'http://localhost:80', host: 'localhost:80' });
      expect(own.statusCode).toBe(200);
    });

    it('rotates the cookie on refresh; a spent cookie ends the session; sign-out ends it too', async () => {
      const first = sessionCookie(await signIn())!.value;
      const refresh = (value: string) =>
        h.request({
          method: 'POST',
          url: '/v1/console/session/refresh',
          headers: CONSOLE,
          cookies: { roster_session: value },
        });
      const renewed = await refresh(first);
      expect(renewed.statusCode).toBe(200);
      const second = sessionCookie(renewed)!.value;
      expect(second).not.toBe(first);
      // Replaying the spent token looks like theft: the whole session ends, its newer token too.
      expect((await refresh(first)).statusCode).toBe(401);
      expect((await refresh(second)).statusCode).toBe(401);

      const third = sessionCookie(await signIn())!.value;
      const out = await h.request({
        method: 'DELETE',
        url: '/v1/console/session',
        headers: CONSOLE,
        cookies: { roster_session: third },
      });
      expect(out.statusCode).toBe(204);
      expect(sessionCookie(out)!.value).toBe('');
      expect((await refresh(third)).statusCode).toBe(401);
      const none = await h.request({ method: 'POST', url: '/v1/console/session/refresh', headers: CONSOLE });
      expect(none.json().detail).toBe('No console session: sign in');
    });

    it('challenges the console with Bearer only, other clients with Basic too', async () => {
      const console401 = await h.request({ method: 'GET', url: '/v1/contacts', headers: CONSOLE });
      expect(console401.headers['www-authenticate']).toBe('Bearer realm="roster"');
      const other = await h.request({ method: 'GET', url: '/v1/contacts' });
      expect(other.headers['www-authenticate']).toBe('Basic realm="roster", Bearer realm="roster"');
    });

    it('throttles failed console sign-ins as the API does', { timeout: 60_000 }, async () => {
      const user = await h.a.addUser('viewer', 'throttled');
      const statuses: number[] = [];
      let last: LightMyRequestResponse | undefined;
      // The throttle's defaults: 3 failures free, then growing delays, locked after 10.
      for (let i = 0; i < 11; i++) {
        const res = await h.request({
          method: 'POST',
          url: '/v1/console/session',
          headers: CONSOLE,
          payload: { username: user.username, password: 'wrong' },
        });
        statuses.push(res.statusCode);
        last = res;
      }
      expect(statuses[0]).toBe(401);
      expect(statuses.at(-1)).toBe(429);
      expect(last!.json().detail).toBe('Too many failed sign-ins for this username; try again later');
    });

    it("lists a contact's groups; another organisation's contact is not found", async () => {
      const auth = { authorization: h.a.owner.basic };
      const contact = (
        await h.request({ method: 'POST', url: '/v1/contacts', headers: auth, payload: { name: 'Ada' } })
      ).json();
      const group = (
        await h.request({ method: 'POST', url: '/v1/groups', headers: auth, payload: { name: 'Choir' } })
      ).json();
      await h.request({
        method: 'POST',
        url: `/v1/groups/${group.id}/members`,
        headers: auth,
        payload: { contact_ids: [contact.id] },
      });
      const groups = await h.request({
        method: 'GET',
        url: `/v1/contacts/${contact.id}/groups`,
        headers: auth,
      });
      expect(groups.json().items.map((g: { name: string }) => g.name)).toEqual(['Choir']);
      const theirs = await h.request({
        method: 'GET',
        url: `/v1/contacts/${contact.id}/groups`,
        headers: { authorization: h.b.owner.basic },
      });
      expect(theirs.statusCode).toBe(404);

      await h.request({ method: 'DELETE', url: `/v1/contacts/${contact.id}`, headers: auth });
      const gone = await h.request({ method: 'GET', url: `/v1/contacts/${contact.id}`, headers: auth });
      expect(gone.statusCode).toBe(404);
      const deleted = await h.request({
        method: 'GET',
        url: `/v1/contacts/${contact.id}?deleted=include`,
        headers: auth,
      });
      expect(deleted.statusCode).toBe(200);
      expect(deleted.json().deleted_at).not.toBeNull();
    });

    it('adds every contact matching a search to a group, as a job with progress', async () => {
      const auth = { authorization: h.a.owner.basic };
      const post = (url: string, payload: object, headers = auth) =>
        h.request({ method: 'POST', url, headers, payload });
      const ids: string[] = [];
      for (const name of ['Harper Lee', 'Harper Collins', 'Harpo Marx', 'Groucho Marx'])
        ids.push((await post('/v1/contacts', { name })).json().id);
      await post('/v1/contacts', { name: 'Harper Elsewhere' }, { authorization: h.b.owner.basic });
      const group = (await post('/v1/groups', { name: 'Harps' })).json();
      await post(`/v1/groups/${group.id}/members`, { contact_ids: [ids[0]] });

      const started = await post(`/v1/groups/${group.id}/members/matching`, { q: 'harp' });
      expect(started.statusCode).toBe(202);
      expect(started.json()).toMatchObject({ group_id: group.id, status: 'running' });
      await h.services.memberJobs.idle();
      const done = await h.request({ method: 'GET', url: String(started.headers.location), headers: auth });
      expect(done.json()).toMatchObject({ status: 'completed', matched: 3, added: 2, error: null });
      const members = await h.request({
        method: 'GET',
        url: `/v1/groups/${group.id}/members?sort=name`,
        headers: auth,
      });
      expect(members.json().items.map((c: { name: string }) => c.name)).toEqual([
        'Harper Collins',
        'Harper Lee',
        'Harpo Marx',
      ]);

      const viewer = await h.a.addUser('viewer', 'job-viewer');
      expect(
        (await post(`/v1/groups/${group.id}/members/matching`, { q: 'x' }, { authorization: viewer.basic }))
          .statusCode,
      ).toBe(403);
      const theirs = await post(
        `/v1/groups/${group.id}/members/matching`,
        { q: 'x' },
        { authorization: h.b.owner.basic },
      );
      expect(theirs.statusCode).toBe(404);
      const unknownField = await post(`/v1/groups/${group.id}/members/matching`, { contact_ids: ids });
      expect(unknownField.statusCode).toBe(400);
      const badConsent = await post(`/v1/groups/${group.id}/members/matching`, { consent: 'fax:yes' });
      expect(badConsent.statusCode).toBe(400);
      const other = (await post('/v1/groups', { name: 'Other' })).json();
      const wrongGroup = await h.request({
        method: 'GET',
        url: `/v1/groups/${other.id}/members/matching/${started.json().id}`,
        headers: auth,
      });
      expect(wrongGroup.statusCode).toBe(404);
    });

    describe.skipIf(!existsSync(join(CONSOLE_ROOT, 'index.html')))('pages (after npm run build)', () => {
      it("serves the console's pages with a CSP that allows no inline script; APIs keep their JSON 404s", async () => {
        for (const url of [
          '/',
          '/contacts',
          '/contacts/0192',
          '/groups/x',
          '/duplicates',
          '/duplicates/compare?ids=a,b',
          '/import',
          '/admin',
        ]) {
          const res = await h.request({ method: 'GET', url });
          expect(res.statusCode, url).toBe(200);
          expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
          const csp = String(res.headers['content-security-policy']);
          expect(csp).toContain("script-src 'self'");
          expect(csp).not.toContain('unsafe-inline');
          expect(res.headers['x-content-type-options']).toBe('nosniff');
          expect(res.body).not.toMatch(/<script>|<script type="module">/);
        }
        for (const url of ['/v1/nothing', '/assets/missing.js', '/nothing']) {
          const res = await h.request({ method: 'GET', url });
          expect(res.statusCode, url).toBe(404);
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        }
        const seed = await h.request({ method: 'GET', url: '/contact/nothing/at/all' });
        expect(seed.json()).toMatchObject({ status: false });
        const docs = await h.request({ method: 'GET', url: '/docs/' });
        expect(docs.headers['content-security-policy']).not.toBe(
          (await h.request({ method: 'GET', url: '/' })).headers['content-security-policy'],
        );
      });
    });
  });
}
