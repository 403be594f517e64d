import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/domain/roles.js';
import { dialects } from './support/databases.js';
import { createHarness, type Harness, type Login } from './support/harness.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface Route {
  method: Method;
  url: (ids: Ids) => string;
  body?: (ids: Ids) => object;
  /** The least role that may call it. */
  role: Role;
  /** Does it name a record of the caller's organisation (so another organisation must get 404)? */
  owned: boolean;
}
interface Ids {
  contact: string;
  group: string;
  user: string;
  key: string;
}

const n = (() => {
  let i = 0;
  return () => ++i;
})();

/**
 * Every authenticated /v1 route, once, with the least role that may call it: the role matrix
 * loops over it. Bad credentials and other organisations are the auth and tenant matrices'
 * (auth-matrix.test.ts, tenant-matrix.test.ts), over every surface.
 */
const ROUTES: Route[] = [
  { method: 'GET', url: () => '/v1/contacts', role: 'viewer', owned: false },
  {
    method: 'POST',
    url: () => '/v1/contacts',
    body: () => ({ name: `New ${n()}` }),
    role: 'editor',
    owned: false,
  },
  { method: 'GET', url: (i) => `/v1/contacts/${i.contact}`, role: 'viewer', owned: true },
  {
    method: 'PUT',
    url: (i) => `/v1/contacts/${i.contact}`,
    body: () => ({ name: 'Replaced' }),
    role: 'editor',
    owned: true,
  },
  {
    method: 'PATCH',
    url: (i) => `/v1/contacts/${i.contact}`,
    body: () => ({ company: 'Patched' }),
    role: 'editor',
    owned: true,
  },
  { method: 'POST', url: (i) => `/v1/contacts/${i.contact}/restore`, role: 'editor', owned: true },
  { method: 'GET', url: () => '/v1/groups', role: 'viewer', owned: false },
  {
    method: 'POST',
    url: () => '/v1/groups',
    body: () => ({ name: `Group ${n()}` }),
    role: 'editor',
    owned: false,
  },
  { method: 'GET', url: (i) => `/v1/groups/${i.group}`, role: 'viewer', owned: true },
  {
    method: 'PUT',
    url: (i) => `/v1/groups/${i.group}`,
    body: () => ({ name: 'Replaced group' }),
    role: 'editor',
    owned: true,
  },
  {
    method: 'PATCH',
    url: (i) => `/v1/groups/${i.group}`,
    body: () => ({ description: 'Patched' }),
    role: 'editor',
    owned: true,
  },
  { method: 'GET', url: (i) => `/v1/groups/${i.group}/members`, role: 'viewer', owned: true },
  {
    method: 'POST',
    url: (i) => `/v1/groups/${i.group}/members`,
    body: (i) => ({ contact_ids: [i.contact] }),
    role: 'editor',
    owned: true,
  },
  {
    method: 'DELETE',
    url: (i) => `/v1/groups/${i.group}/members`,
    body: (i) => ({ contact_ids: [i.contact] }),
    role: 'editor',
    owned: true,
  },
  { method: 'GET', url: () => '/v1/users', role: 'viewer', owned: false },
  {
    method: 'POST',
    url: () => '/v1/users',
    body: () => ({ username: `made-${process.pid}-${n()}`, password: 'long enough pw', role: 'viewer' }),
    role: 'admin',
    owned: false,
  },
  { method: 'GET', url: (i) => `/v1/users/${i.user}`, role: 'viewer', owned: true },
  {
    method: 'PATCH',
    url: (i) => `/v1/users/${i.user}`,
    body: () => ({ display_name: 'Renamed' }),
    role: 'admin',
    owned: true,
  },
  { method: 'GET', url: () => '/v1/api-keys', role: 'admin', owned: false },
  { method: 'POST', url: () => '/v1/api-keys', body: () => ({ name: 'k' }), role: 'admin', owned: false },
  { method: 'DELETE', url: (i) => `/v1/api-keys/${i.key}`, role: 'admin', owned: true },
  { method: 'GET', url: () => '/v1/organisation', role: 'viewer', owned: false },
  {
    method: 'PATCH',
    url: () => '/v1/organisation',
    body: () => ({ default_language: 'en' }),
    role: 'admin',
    owned: false,
  },
  { method: 'DELETE', url: (i) => `/v1/contacts/${i.contact}`, role: 'editor', owned: true },
  { method: 'DELETE', url: (i) => `/v1/groups/${i.group}`, role: 'editor', owned: true },
];
const ORDER: Role[] = ['viewer', 'editor', 'admin', 'owner'];
const label = (r: Route) => `${r.method} ${r.url({ contact: ':id', group: ':id', user: ':id', key: ':id' })}`;

describe.each(dialects)('every /v1 route on %s', (dialect) => {
  let h: Harness;
  let logins: Record<Role, Login>;
  let ids: Ids;
  let target: Login;
  const call = (route: Route, authorization: string | undefined, on: Ids = ids) =>
    h.request({
      method: route.method,
      url: route.url(on),
      headers: authorization ? { authorization } : {},
      ...(route.body && { payload: route.body(on) }),
    });

  /** Fresh records of organisation A for each call that may change or delete them. */
  async function freshIds(): Promise<Ids> {
    const auth = { authorization: h.a.owner.apiKey };
    const contact = await h.request({
      method: 'POST',
      url: '/v1/contacts',
      headers: auth,
      payload: { name: `Target ${n()}`, email: 'target@example.com' },
    });
    const group = await h.request({
      method: 'POST',
      url: '/v1/groups',
      headers: auth,
      payload: { name: `Target group ${n()}` },
    });
    const key = await h.request({
      method: 'POST',
      url: '/v1/api-keys',
      headers: auth,
      payload: { name: 'target key' },
    });
    return {
      contact: contact.json().id,
      group: group.json().id,
      user: target.user.id,
      key: key.json().id,
    };
  }

  beforeAll(async () => {
    h = await createHarness(dialect);
    target = await h.a.addUser('viewer', 'target');
    logins = {
      viewer: await h.a.addUser('viewer'),
      editor: await h.a.addUser('editor'),
      admin: await h.a.addUser('admin'),
      owner: h.a.owner,
    };
    ids = await freshIds();
  });
  afterAll(() => h.close());

  it('lets each role do exactly what it may, with every credential type', async () => {
    for (const route of ROUTES) {
      for (const role of ORDER) {
        const allowed = ORDER.indexOf(role) >= ORDER.indexOf(route.role);
        const credential = [logins[role].basic, logins[role].apiKey, logins[role].jwt][n() % 3]!;
        const target = route.owned && route.method !== 'GET' ? await freshIds() : ids;
        const res = await call(route, credential, target);
        if (allowed) expect(res.statusCode, `${label(route)} as ${role}: ${res.body}`).toBeLessThan(300);
        else expect(res.statusCode, `${label(route)} as ${role}`).toBe(403);
      }
    }
  });
});
