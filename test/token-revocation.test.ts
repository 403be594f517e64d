import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness, type Login } from './support/harness.js';

describe.each(dialects)('revoking access tokens on %s', (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  const login = async (user: Login) => {
    const res = await h.request({
      method: 'POST',
      url: '/v1/auth/token',
      payload: { username: user.username, password: user.password },
    });
    const { access_token, refresh_token } = res.json();
    return { access: `Bearer ${access_token as string}`, refresh: refresh_token as string };
  };
  const statusWith = async (authorization: string) =>
    (await h.request({ method: 'GET', url: '/v1/contacts', headers: { authorization } })).statusCode;
  const refresh = (refresh_token: string) =>
    h.request({ method: 'POST', url: '/v1/auth/refresh', payload: { refresh_token } });
  const logout = (authorization: string | undefined, payload?: object) =>
    h.request({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: authorization ? { authorization } : {},
      ...(payload && { payload }),
    });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('a token that was accepted is refused as expired once its lifetime is over', async () => {
    const user = await h.a.addUser('viewer');
    const session = await login(user);
    expect(await statusWith(session.access)).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 901_000 });
    const late = await h.request({
      method: 'GET',
      url: '/v1/contacts',
      headers: { authorization: session.access },
    });
    expect(late.statusCode).toBe(401);
    expect(late.json().detail).toMatch(/expired/i);
  });

  it('logout with the access token ends its session at once and leaves other sessions alone', async () => {
    const user = await h.a.addUser('editor');
    const laptop = await login(user);
    const phone = await login(user);
    const rotated = (await refresh(laptop.refresh)).json();
    expect(await statusWith(laptop.access)).toBe(200);

    expect((await logout(`Bearer ${rotated.access_token}`)).statusCode).toBe(204);
    // The session's earlier token and its refresh token die with it.
    expect(await statusWith(`Bearer ${rotated.access_token}`)).toBe(401);
    expect(await statusWith(laptop.access)).toBe(401);
    expect((await refresh(rotated.refresh_token)).statusCode).toBe(401);
    expect(await statusWith(phone.access)).toBe(200);
    expect(await statusWith(user.apiKey)).toBe(200);
    expect((await login(user)).access).toMatch(/^Bearer ey/);
  });

  it('logout with only the refresh token ends the session’s access tokens too', async () => {
    const user = await h.a.addUser('viewer');
    const session = await login(user);
    expect((await logout(undefined, { refresh_token: session.refresh })).statusCode).toBe(204);
    expect(await statusWith(session.access)).toBe(401);
  });

  it('a replayed refresh token ends the access tokens of its session', async () => {
    const user = await h.a.addUser('viewer');
    const session = await login(user);
    const rotated = (await refresh(session.refresh)).json();
    expect((await refresh(session.refresh)).statusCode).toBe(401);
    expect(await statusWith(`Bearer ${rotated.access_token}`)).toBe(401);
  });

  it('logout everywhere, a password change and disabling each revoke all of a user’s tokens', async () => {
    const everywhere = await h.a.addUser('viewer');
    const other = await login(everywhere);
    expect((await logout(everywhere.jwt, { everywhere: true })).statusCode).toBe(204);
    expect(await statusWith(everywhere.jwt)).toBe(401);
    expect(await statusWith(other.access)).toBe(401);
    expect((await refresh(other.refresh)).statusCode).toBe(401);
    expect(await statusWith((await login(everywhere)).access)).toBe(200);

    const changed = await h.a.addUser('viewer');
    const patch = await h.request({
      method: 'PATCH',
      url: `/v1/users/${changed.user.id}`,
      headers: { authorization: changed.jwt },
      payload: { password: 'a brand new password' },
    });
    expect(patch.statusCode).toBe(200);
    expect(await statusWith(changed.jwt)).toBe(401);

    const disabled = await h.a.addUser('viewer');
    const owner = { authorization: h.a.owner.apiKey };
    const off = (is_active: boolean) =>
      h.request({
        method: 'PATCH',
        url: `/v1/users/${disabled.user.id}`,
        headers: owner,
        payload: { is_active },
      });
    expect((await off(false)).statusCode).toBe(200);
    expect((await off(true)).statusCode).toBe(200);
    // Enabled again, the user logs in anew: tokens from before stay dead.
    expect(await statusWith(disabled.jwt)).toBe(401);
    expect(await statusWith(disabled.basic)).toBe(200);
  });

  it('logout needs a credential or a refresh token, and a bad one is a 401', async () => {
    const none = await logout(undefined);
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBeTruthy();
    expect((await logout('Bearer not.a.token', {})).statusCode).toBe(401);
    expect((await logout(undefined, { refresh_token: 'rrt_unknown' })).statusCode).toBe(401);
  });
});
