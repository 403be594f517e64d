import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import type { InjectOptions } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

/** A write on each surface, in its own style: every one must meet a locked database with 409, never 500. */
function writesOnEverySurface(h: Harness): [surface: string, request: InjectOptions][] {
  const jwt = { authorization: h.a.owner.jwt };
  return [
    ['/v1 create', { method: 'POST', url: '/v1/contacts', headers: jwt, payload: { name: 'Locked out' } }],
    [
      '/v1 user (no transaction)',
      {
        method: 'POST',
        url: '/v1/users',
        headers: jwt,
        payload: { username: 'locked-out', password: 'a long password', role: 'viewer' },
      },
    ],
    [
      'seed 000',
      {
        method: 'POST',
        url: `/api/v1.0/organisation/${h.a.org.id}/contact-groups/create/`,
        headers: { authorization: h.a.owner.basic },
        payload: { unique_id: 'text', translations: 'Locked out' },
      },
    ],
    [
      'seed 001',
      { method: 'POST', url: '/contact', headers: jwt, payload: { name: 'Locked', number: '08031112299' } },
    ],
    [
      'seed 002',
      {
        method: 'POST',
        url: '/api/unified-communications/contact-groups',
        headers: jwt,
        payload: { name: 'Locked', church: h.a.org.id },
      },
    ],
    ['seed 003', { method: 'POST', url: '/api/group/new', headers: jwt, payload: { name: 'Locked' } }],
  ];
}

const counts = async (h: Harness) => {
  const jwt = { authorization: h.a.owner.jwt };
  const get = (url: string) => h.request({ method: 'GET', url, headers: jwt });
  return {
    contacts: (await get('/v1/contacts?limit=1000')).json().items.length,
    groups: (await get('/v1/groups?limit=1000')).json().items.length,
    users: (await get('/v1/users?limit=1000')).json().items.length,
  };
};

describe('SQLite locked by another connection', () => {
  let h: Harness;
  let path: string;
  beforeAll(async () => {
    path = join(mkdtempSync(join(tmpdir(), 'roster-busy-')), 'roster.db');
    h = await createHarness('sqlite', { sqlitePath: path, sqliteBusyTimeoutMs: 50 });
  });
  afterAll(() => h.close());

  it('answers every write with 409 busy and Retry-After while another connection holds the write lock, writes nothing, and works once it is free', async () => {
    const before = await counts(h);
    const locker = new SqliteDatabase(path);
    locker.exec('begin immediate');
    const statuses: string[] = [];
    try {
      for (const [surface, request] of writesOnEverySurface(h)) {
        const res = await h.request(request);
        statuses.push(`${surface}: ${res.statusCode}`);
        expect(res.statusCode, surface).toBe(409);
        expect(res.headers['retry-after'], surface).toBe('1');
        expect(res.body, surface).not.toMatch(/SQLITE|insert into|\bat .*\.[jt]s:\d+/i);
      }
    } finally {
      locker.exec('rollback');
      locker.close();
    }
    console.log(`[sqlite] write lock held past busy_timeout (50 ms): ${statuses.join(', ')}`);
    expect(await counts(h)).toEqual(before);
    for (const [surface, request] of writesOnEverySurface(h))
      expect((await h.request(request)).statusCode, surface).toBeLessThan(300);
  });

  it('answers in the /v1 problem style with code busy and retryable', async () => {
    const locker = new SqliteDatabase(path);
    locker.exec('begin immediate');
    try {
      const res = await h.request(writesOnEverySurface(h)[0]![1]);
      expect(res.json()).toMatchObject({ status: 409, code: 'busy', retryable: true, retry_after: 1 });
    } finally {
      locker.exec('rollback');
      locker.close();
    }
  });
});

describe.runIf(dialects.includes('postgres'))('PostgreSQL conflicts with other transactions', () => {
  let h: Harness;
  let base: string;
  let other: pg.Client;
  let jwt: { authorization: string };

  beforeAll(async () => {
    // Serializable makes racing writes fail with 40001 instead of waiting; lock_timeout turns a
    // lock held elsewhere into 55P03: both conflicts a busy production database meets.
    h = await createHarness('postgres', {
      postgresSettings: { default_transaction_isolation: 'serializable', lock_timeout: '200ms' },
    });
    jwt = { authorization: h.a.owner.jwt };
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const { rows } = await sql<{ db: string }>`select current_database() as db`.execute(h.store.db);
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = `/${rows[0]!.db}`;
    other = new pg.Client({ connectionString: url.toString() });
    await other.connect();
  });
  afterAll(async () => {
    await other.end();
    await h.close();
  });

  it('retries serialization failures: 20 racing PATCHes without If-Match all land or get 409, none is lost', async () => {
    const contact = (
      await h.request({ method: 'POST', url: '/v1/contacts', headers: jwt, payload: { name: 'Raced' } })
    ).json();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${base}/v1/contacts/${contact.id}`, {
          method: 'PATCH',
          headers: { ...jwt, 'content-type': 'application/merge-patch+json' },
          body: JSON.stringify({ custom: { [`racer_${i}`]: true } }),
        }).then(async (res) => ({ status: res.status, retryAfter: res.headers.get('retry-after') })),
      ),
    );
    const landed = answers.filter((a) => a.status === 200).length;
    const busy = answers.filter((a) => a.status === 409);
    console.log(
      `[postgres] 20 racing PATCHes under serializable: ${landed} x 200, ${busy.length} x 409 busy`,
    );
    expect(landed + busy.length).toBe(20);
    expect(busy.every((a) => a.retryAfter === '1')).toBe(true);
    const stored = (
      await h.request({ method: 'GET', url: `/v1/contacts/${contact.id}`, headers: jwt })
    ).json();
    expect(Object.keys(stored.custom)).toHaveLength(landed);
    expect(stored.version).toBe(1 + landed);
  });

  it('answers 409 busy when another transaction holds a lock past lock_timeout, and leaves nothing half-written', async () => {
    const group = (
      await h.request({ method: 'POST', url: '/v1/groups', headers: jwt, payload: { name: 'Held' } })
    ).json();
    const contact = (
      await h.request({ method: 'POST', url: '/v1/contacts', headers: jwt, payload: { name: 'Member' } })
    ).json();
    await other.query('begin');
    // The membership rows are written before the group's count, which is what is held here.
    await other.query('select * from groups where id = $1 for update', [group.id]);
    let res;
    try {
      res = await h.request({
        method: 'POST',
        url: `/v1/groups/${group.id}/members`,
        headers: jwt,
        payload: { contact_ids: [contact.id] },
      });
    } finally {
      await other.query('rollback');
    }
    console.log(`[postgres] group row locked by another transaction: POST members -> ${res.statusCode}`);
    expect(res.statusCode).toBe(409);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toMatchObject({ code: 'busy', retryable: true });
    expect(res.body).not.toMatch(/lock|select|update|insert/i);
    const members = await h.request({ method: 'GET', url: `/v1/groups/${group.id}/members`, headers: jwt });
    expect(members.json().items).toEqual([]);
    const again = await h.request({
      method: 'POST',
      url: `/v1/groups/${group.id}/members`,
      headers: jwt,
      payload: { contact_ids: [contact.id] },
    });
    expect(again.json()).toMatchObject({ added: 1, member_count: 1 });
  });
});
