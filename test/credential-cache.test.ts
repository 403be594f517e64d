import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { openStore, type Store } from '../src/db/store.js';
import { buildApp } from '../src/http/app.js';
import { createServices, type Services } from '../src/services/index.js';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

/*
 * On SQLite a process keeps the credentials it verified while the database is unchanged
 * (AuthService.verified). A revocation must still take effect on the next request, whichever
 * process made it: here a second Roster, with connections of its own to the same database, makes it.
 */
describe.each(dialects)('credentials verified before, revoked since, on %s', (dialect) => {
  let h: Harness;
  let other: { app: FastifyInstance; services: Services; store: Store };

  beforeAll(async () => {
    h = await createHarness(dialect);
    const store = openStore({ url: h.database.url, ownerUrl: h.database.ownerUrl, poolSize: 2 });
    const services = await createServices(store, {
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 3600,
      secretKey: 'test secret key',
    });
    other = { app: await buildApp(services, { logLevel: 'silent' }), services, store };
  });
  afterAll(async () => {
    await other.app.close();
    await other.services.rateLimiter.close();
    await other.store.close();
    await h.close();
  });

  const status = async (authorization: string, method: 'GET' | 'POST' = 'GET') =>
    (
      await h.request({
        method,
        url: '/v1/contacts',
        headers: { authorization },
        ...(method === 'POST' && { payload: { name: 'Cached Key Writer' } }),
      })
    ).statusCode;
  /** The owner's request through the other process. */
  const elsewhere = (method: 'DELETE' | 'PATCH', url: string, payload?: object) =>
    other.app.inject({
      method,
      url,
      headers: { authorization: h.a.owner.apiKey },
      ...(payload && { payload }),
    });
  const keyIdOf = async (apiKey: string) =>
    (await h.services.auth.verifyBearer(apiKey.slice('Bearer '.length))).credentialId!;

  it('refuses a key on the next request once another process has revoked it', async () => {
    const user = await h.a.addUser('editor');
    expect(await status(user.apiKey)).toBe(200);
    expect(await status(user.apiKey)).toBe(200);
    const revoked = await elsewhere('DELETE', `/v1/api-keys/${await keyIdOf(user.apiKey)}`);
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(await status(user.apiKey)).toBe(401);
  });

  it('refuses a disabled user’s key, and a demoted user’s writes, on the next request', async () => {
    const user = await h.a.addUser('editor');
    expect(await status(user.apiKey, 'POST')).toBe(201);
    const demoted = await elsewhere('PATCH', `/v1/users/${user.user.id}`, { role: 'viewer' });
    expect(demoted.statusCode, demoted.body).toBe(200);
    expect(await status(user.apiKey, 'POST')).toBe(403);
    expect(await status(user.apiKey)).toBe(200);
    const disabled = await elsewhere('PATCH', `/v1/users/${user.user.id}`, { is_active: false });
    expect(disabled.statusCode, disabled.body).toBe(200);
    expect(await status(user.apiKey)).toBe(401);
  });

  it('refuses a token on the next request once another process has ended its session, or all of its user’s', async () => {
    const user = await h.a.addUser('editor');
    const second = await h.a.addUser('editor');
    for (const [login, payload] of [
      [user, undefined],
      [second, { everywhere: true }],
    ] as const) {
      expect(await status(login.jwt)).toBe(200);
      expect(await status(login.jwt)).toBe(200);
      const out = await other.app.inject({
        method: 'POST',
        url: '/v1/auth/logout',
        headers: { authorization: login.jwt },
        ...(payload && { payload }),
      });
      expect(out.statusCode, out.body).toBe(204);
      expect(await status(login.jwt)).toBe(401);
    }
  });

  it('refuses a key this process revoked on the next request', async () => {
    const user = await h.a.addUser('editor');
    expect(await status(user.apiKey)).toBe(200);
    const revoked = await h.a.send('DELETE', `/v1/api-keys/${await keyIdOf(user.apiKey)}`);
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(await status(user.apiKey)).toBe(401);
  });
});
