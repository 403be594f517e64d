import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { forgedTokens, type Forged } from './support/forged-tokens.js';
import { createHarness, type Harness } from './support/harness.js';
import {
  allOperations,
  covered,
  getOf,
  HIDDEN_PUBLIC,
  keyOf,
  PUBLIC,
  recordsOf,
  requestFor,
  unlikeGet,
  wrong401,
  type Operation,
  type TenantIds,
} from './support/operations.js';
import { snapshot } from './support/snapshot.js';

/** One bad credential, as a header, a query string or seed 001's body token; some are made fresh per request. */
interface BadCase {
  name: string;
  authorization?: () => string | undefined;
  query?: string;
  bodyToken?: string;
  /** Only for seed 001, the one surface that reads a token from the body. */
  seed001Only?: boolean;
}

const basic = (username: string, password: string) =>
  'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
const bare = (header: string) => header.slice('Bearer '.length);
let serial = 0;

describe.each(dialects)('every operation of every surface refuses bad credentials, on %s', (dialect) => {
  const secret = randomBytes(32).toString('base64url');
  let h: Harness;
  let ids: TenantIds;
  let operations: Operation[];
  let cases: BadCase[];
  let control: string;

  /** Real users for wrong passwords, each failing at most three times: more would be throttled (abuse-limits.test.ts). */
  async function wrongPasswords(count: number): Promise<() => string> {
    const usernames = Array.from({ length: count }, (_, i) => `wrong-pw-${process.pid}-${i}`);
    await Promise.all(
      usernames.map((username) =>
        h.services.accounts.createUser(null, h.a.org.id, {
          username,
          password: 'the real password',
          role: 'viewer',
        }),
      ),
    );
    let next = 0;
    return () => basic(usernames[Math.floor(next++ / 3) % count]!, 'not the password');
  }

  async function revokedCredentials() {
    const owner = { authorization: h.a.owner.basic };
    const loggedOut = await h.a.addUser('editor', 'logged-out');
    expect(
      (await h.request({ method: 'POST', url: '/v1/auth/logout', headers: { authorization: loggedOut.jwt } }))
        .statusCode,
    ).toBe(204);
    const changed = await h.a.addUser('editor', 'new-password');
    await h.request({
      method: 'PATCH',
      url: `/v1/users/${changed.user.id}`,
      headers: { authorization: changed.basic },
      payload: { password: 'a brand new password' },
    });
    const disabled = await h.a.addUser('editor', 'disabled');
    await h.request({
      method: 'PATCH',
      url: `/v1/users/${disabled.user.id}`,
      headers: owner,
      payload: { is_active: false },
    });
    const key = await h.request({
      method: 'POST',
      url: '/v1/api-keys',
      headers: owner,
      payload: { name: 'gone' },
    });
    await h.request({ method: 'DELETE', url: `/v1/api-keys/${key.json().id}`, headers: owner });
    return [
      { name: 'JWT after logout', token: bare(loggedOut.jwt) },
      { name: 'JWT after a password change', token: bare(changed.jwt) },
      { name: 'JWT of a disabled user', token: bare(disabled.jwt) },
      { name: 'API key of a disabled user', token: bare(disabled.apiKey) },
      { name: 'revoked API key', token: key.json().key as string },
      { name: 'unknown API key', token: 'rst_not-a-key' },
    ];
  }

  beforeAll(async () => {
    h = await createHarness(dialect, { jwtSecret: secret });
    operations = await allOperations(h.app);
    ids = await recordsOf(h, h.a, 'Alpha');
    const victim = await h.a.addUser('viewer', 'victim');
    const forged = await forgedTokens({
      secret,
      token: bare(victim.jwt),
      foreignToken: bare(h.b.owner.jwt),
      targetOrg: h.a.org.id,
      otherUser: h.a.owner.user.id,
    });
    control = forged.control;
    const tokens: Forged[] = [
      ...forged.attacks.map((f) => ({ ...f, name: `JWT: ${f.name}` })),
      ...(await revokedCredentials()),
    ];
    const wrongPassword = await wrongPasswords(Math.ceil(operations.length / 3) + 1);
    const valid = { key: bare(h.a.owner.apiKey), jwt: bare(h.a.owner.jwt) };
    cases = [
      { name: 'no credential' },
      { name: 'Basic, wrong password', authorization: wrongPassword },
      { name: 'Basic, unknown user', authorization: () => basic(`nobody-${++serial}`, 'whatever') },
      { name: 'Basic, not base64', authorization: () => 'Basic !!!' },
      { name: 'Basic, no colon', authorization: () => 'Basic ' + Buffer.from('nocolon').toString('base64') },
      { name: 'Basic, empty username', authorization: () => basic('', 'password') },
      { name: 'Basic scheme alone', authorization: () => 'Basic' },
      { name: 'Bearer scheme alone', authorization: () => 'Bearer' },
      { name: 'Bearer, blank', authorization: () => 'Bearer    ' },
      { name: 'wrong scheme (Token)', authorization: () => `Token ${valid.key}` },
      { name: 'wrong scheme (Digest)', authorization: () => 'Digest username="x", response="y"' },
      { name: 'a bare token, no scheme', authorization: () => valid.jwt },
      ...tokens.map((t) => ({ name: t.name, authorization: () => `Bearer ${t.token}` })),
      { name: 'API key in ?api_key=', query: `api_key=${valid.key}` },
      { name: 'JWT in ?access_token=', query: `access_token=${valid.jwt}` },
      { name: 'JWT in ?token=', query: `token=${valid.jwt}` },
      {
        name: 'a valid header and a password in ?password=',
        authorization: () => h.a.owner.apiKey,
        query: `password=${h.a.owner.password}`,
      },
      ...tokens.map((t) => ({ name: `body access_token: ${t.name}`, bodyToken: t.token, seed001Only: true })),
      {
        name: 'body access_token in ?access_token= too',
        bodyToken: '',
        query: `access_token=${valid.jwt}`,
        seed001Only: true,
      },
    ];
  });
  afterAll(() => h.close());

  it('knows how to call every operation the router serves, and lists the public ones with a reason', () => {
    const uncovered = operations.filter((op) => !covered(op) && !(keyOf(op) in PUBLIC)).map(keyOf);
    expect(uncovered, 'operations the matrices cannot call: add them to test/support/operations.ts').toEqual(
      [],
    );
    for (const key of Object.keys(PUBLIC)) expect(operations.map(keyOf)).toContain(key);
    expect(HIDDEN_PUBLIC.length).toBeGreaterThan(0);
  });

  it('accepts a token signed with the configured key, so each forgery fails for its own defect', async () => {
    const res = await h.request({
      method: 'GET',
      url: '/v1/organisation',
      headers: { authorization: `Bearer ${control}` },
    });
    expect(res.statusCode).toBe(200);
  });

  it('answers 401 in the surface’s own error style, with WWW-Authenticate (a HEAD as its GET, bodiless), and writes nothing', async () => {
    const before = await snapshot(h);
    expect(before.some((line) => line.includes(ids.contact))).toBe(true);
    const failures: string[] = [];
    let requests = 0;
    const tested = operations.filter((op) => !(keyOf(op) in PUBLIC));
    const answersOfGet = new Map<string, LightMyRequestResponse[]>();
    // The cases of one operation at once: password checks run on the thread pool, and none of them writes.
    for (const op of tested) {
      const applicable = cases.filter((bad) => !bad.seed001Only || op.surface === 'seed 001');
      const answers = await Promise.all(
        applicable.map((bad) =>
          h.request(
            requestFor(op, ids, bad.authorization?.(), { bodyToken: bad.bodyToken, query: bad.query }),
          ),
        ),
      );
      if (op.method === 'GET') answersOfGet.set(keyOf(op), answers);
      const gets = answersOfGet.get(keyOf(getOf(op)));
      answers.forEach((res, i) => {
        const wrong = op.method === 'HEAD' ? unlikeGet(res, gets![i]!) : wrong401(op.surface, res);
        if (wrong) failures.push(`${keyOf(op)} with ${applicable[i]!.name}: ${wrong}`);
      });
      requests += answers.length;
    }
    console.log(
      `auth matrix (${dialect}): ${tested.length} operations × ${cases.length} cases ` +
        `(${cases.filter((c) => c.seed001Only).length} of them seed 001 only) = ${requests} requests, ` +
        `non-401: ${failures.length}`,
    );
    for (const failure of failures.slice(0, 50)) console.log(failure);
    expect(failures).toEqual([]);
    expect(await snapshot(h)).toEqual(before);
  }, 300_000);
});
