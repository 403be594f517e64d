import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';

const JWT_SECRET = 'test-jwt-secret-that-must-never-show-0123456789';

/** Statements as a database sees them: none may reach a log line or a response. */
const SQL_TEXT = /\bselect\b[^"]*\bfrom\b|\binsert into\b|\bupdate\s+"?\w+"?\s+set\b|\bdelete from\b/i;
/** A stack trace's frames. */
const STACK = /\bat .*\(?\/.*\.[cm]?[jt]s:\d+:\d+\)?|node:internal/;

/** Every value of every table, as text: what someone who copies the database file could read. */
async function everyStoredValue(h: Harness): Promise<string[]> {
  if (h.dialect === 'sqlite') {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(
      h.store.db,
    );
    const values: string[] = [];
    for (const { name } of tables.rows) {
      const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(h.store.db);
      for (const row of rows.rows) values.push(...Object.values(row).map(String));
    }
    return values;
  }
  // As the database's superuser: row-level security hides tenant rows from the serving role.
  const { rows } = await sql<{ db: string }>`select current_database() as db`.execute(h.store.db);
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${rows[0]!.db}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'",
    );
    const values: string[] = [];
    for (const { table_name } of tables.rows) {
      const data = await client.query(`select * from "${table_name}"`);
      for (const row of data.rows)
        values.push(
          ...Object.values(row).map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))),
        );
    }
    return values;
  } finally {
    await client.end();
  }
}

describe.each(dialects)('secrets in logs, answers and storage on %s', (dialect) => {
  let h: Harness;
  const lines: string[] = [];
  const bodies: { what: string; status: number; body: string }[] = [];
  const secrets = new Map<string, string>();

  const send = async (what: string, options: Parameters<Harness['request']>[0]) => {
    const res = await h.request(options);
    bodies.push({ what, status: res.statusCode, body: res.body });
    return res;
  };

  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    h = await createHarness(dialect, { logLevel: 'trace', logStream: stream, jwtSecret: JWT_SECRET });
    const owner = h.a.owner;
    secrets.set('password', owner.password);
    secrets.set('API key', owner.apiKey.slice('Bearer '.length));
    secrets.set('JWT', owner.jwt.slice('Bearer '.length));
    secrets.set('JWT secret', JWT_SECRET);
    const wrongPassword = 'wrong-password-also-a-secret';
    secrets.set('wrong password', wrongPassword);

    // A session: logins, each credential type, refresh, failures, bad input, an import, a 5xx.
    const tokens = await send('login', {
      method: 'POST',
      url: '/v1/auth/token',
      payload: { username: owner.username, password: owner.password },
    });
    secrets.set('refresh token', tokens.json().refresh_token);
    secrets.set('second JWT', tokens.json().access_token);
    const refreshed = await send('refresh', {
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refresh_token: tokens.json().refresh_token },
    });
    secrets.set('rotated refresh token', refreshed.json().refresh_token);
    for (const authorization of [owner.basic, owner.apiKey, owner.jwt])
      await send('read', { method: 'GET', url: '/v1/contacts', headers: { authorization } });
    await send('failed login', {
      method: 'POST',
      url: '/v1/auth/token',
      payload: { username: owner.username, password: wrongPassword },
    });
    await send('failed basic', {
      method: 'GET',
      url: '/v1/contacts',
      headers: {
        authorization: 'Basic ' + Buffer.from(`${owner.username}:${wrongPassword}`).toString('base64'),
      },
    });
    await send('token in the query string', {
      method: 'GET',
      url: `/v1/contacts?access_token=${secrets.get('JWT')}`,
    });
    await send('seed 001 token in the body', {
      method: 'POST',
      url: '/contact',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `access_token=${secrets.get('API key')}&name=Body&number=08031112233`,
    });
    const auth = { authorization: owner.jwt };
    await send('validation error', {
      method: 'POST',
      url: '/v1/contacts',
      headers: auth,
      payload: { phone: 'x' },
    });
    await send('malformed JSON', {
      method: 'POST',
      url: '/v1/contacts',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"name":',
    });
    await send('new user', {
      method: 'POST',
      url: '/v1/users',
      headers: auth,
      payload: { username: 'secretive', password: 'the new user password', role: 'viewer' },
    });
    secrets.set('new user password', 'the new user password');
    const key = await send('new key', {
      method: 'POST',
      url: '/v1/api-keys',
      headers: auth,
      payload: { name: 'k' },
    });
    secrets.set('new API key', key.json().key);
    const job = await send('import', {
      method: 'POST',
      url: '/v1/imports?group_name=Imported',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: 'name,phone\nImported One,0412 999 001\n',
    });
    // The import runs after its answer; its log lines count too, and it must end before the database does.
    for (let polls = 0; polls < 200; polls++) {
      const status = (
        await h.request({ method: 'GET', url: `/v1/imports/${job.json().id}`, headers: auth })
      ).json().status;
      if (!['receiving', 'queued', 'running'].includes(status)) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // A real database error in the middle of a request: the 5xx must say nothing about it.
    h.services.contacts.get = async () => {
      await sql`select secret from no_such_table where password = ${owner.password}`.execute(h.store.db);
      throw new Error('unreachable');
    };
    await send('5xx', { method: 'GET', url: `/v1/contacts/${crypto.randomUUID()}`, headers: auth });
    await send('logout', {
      method: 'POST',
      url: '/v1/auth/logout',
      payload: { refresh_token: refreshed.json().refresh_token },
    });
  });
  afterAll(() => h.close());

  it('writes no secret and no SQL to the log, even at trace level', async () => {
    const hashes = (await everyStoredValue(h)).filter((v) => /^(scrypt|\$|[0-9a-f]{64}$)/.test(v));
    hashes.forEach((hash, i) => secrets.set(`stored hash ${i}`, hash));
    const found = lines.flatMap((line) =>
      [...secrets]
        .filter(([, value]) => line.includes(value))
        .map(([name]) => `${name} in ${line.slice(0, 200)}`),
    );
    const sqlLines = lines.filter((line) => SQL_TEXT.test(line));
    console.log(
      `[${dialect}] log lines scanned: ${lines.length} (trace level), ${bodies.length} requests, ` +
        `${secrets.size} secrets and hashes looked for: secrets found = ${found.length}, lines with SQL = ${sqlLines.length}`,
    );
    expect(lines.length).toBeGreaterThan(bodies.length);
    expect(found).toEqual([]);
    expect(sqlLines).toEqual([]);
    expect(lines.some((line) => line.includes('request failed'))).toBe(true);
  });

  it('answers with no stack trace, SQL or secret in any body, the 5xx included', () => {
    const fiveHundred = bodies.find((b) => b.what === '5xx')!;
    expect(fiveHundred.status).toBe(500);
    expect(JSON.parse(fiveHundred.body).detail).toBe('Internal server error');
    const leaks = bodies.filter(
      (b) =>
        STACK.test(b.body) ||
        SQL_TEXT.test(b.body) ||
        /no_such_table|sqlite|postgres/i.test(b.body) ||
        [...secrets].some(
          ([name, value]) =>
            b.body.includes(value) &&
            !(b.what === 'login' || b.what === 'refresh' || b.what === 'new key') &&
            name !== 'JWT secret',
        ),
    );
    console.log(
      `[${dialect}] response bodies scanned: ${bodies.length}, with a stack, SQL or secret: ${leaks.length}`,
    );
    expect(leaks.map((b) => `${b.what}: ${b.body.slice(0, 200)}`)).toEqual([]);
    expect(bodies.some((b) => b.body.includes(JWT_SECRET))).toBe(false);
  });

  it('stores no password, key, token or JWT secret in plain text', async () => {
    const values = await everyStoredValue(h);
    const plain = [...secrets]
      .filter(([name]) => !name.startsWith('stored hash'))
      .filter(([, secret]) => values.some((v) => v.includes(secret)))
      .map(([name]) => name);
    console.log(
      `[${dialect}] stored values scanned: ${values.length}, plain secrets found = ${plain.length}`,
    );
    expect(plain).toEqual([]);
  });
});
