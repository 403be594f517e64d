import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';

export type TestDialect = 'sqlite' | 'postgres';

/** Every dialect this run tests: SQLite always, PostgreSQL where TEST_DATABASE_URL is set. */
export const dialects: TestDialect[] = process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestDatabase {
  /** Where the app connects: on PostgreSQL as APP_ROLE, which owns nothing and is bound by row-level security. */
  url: string;
  /** PostgreSQL: the owner's connection, to migrate with (DATABASE_OWNER_URL). */
  ownerUrl?: string;
  /** The same, as the server and the CLI take it. */
  env: { DATABASE_URL: string; DATABASE_OWNER_URL?: string };
  drop(): Promise<void>;
}

/** The role the PostgreSQL suite serves as, as production should: no superuser, no BYPASSRLS, no tables of its own. */
export const APP_ROLE = 'roster_test_app';

/** Creates APP_ROLE once per cluster; several test runs may race to do it. */
export async function ensureAppRole(client: pg.Client): Promise<void> {
  await client.query(`do $$ begin
    create role ${APP_ROLE} login nosuperuser nobypassrls;
  exception when duplicate_object or unique_violation then null;
  end $$`);
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A database of its own for one test file, dropped afterwards: a SQLite file (as a server runs
 * it, with its reader connection beside the writer), or a new PostgreSQL database.
 */
export async function freshDatabase(dialect: TestDialect, sqlitePath?: string): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = sqlitePath ? undefined : mkdtempSync(join(tmpdir(), 'roster-test-'));
    const url = `sqlite:${sqlitePath ?? join(dir!, 'roster.db')}`;
    const drop = async () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    };
    return { url, env: { DATABASE_URL: url }, drop };
  }
  const name = `roster_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`create database ${name}`));
  const owner = new URL(process.env.TEST_DATABASE_URL!);
  owner.pathname = `/${name}`;
  const app = new URL(owner);
  app.username = APP_ROLE;
  app.password = '';
  return {
    url: app.toString(),
    ownerUrl: owner.toString(),
    env: { DATABASE_URL: app.toString(), DATABASE_OWNER_URL: owner.toString() },
    drop: () =>
      admin((client) => client.query(`drop database if exists ${name} with (force)`)).then(() => {}),
  };
}

/** A session outside Roster's data layer, as the serving role or (ownerUrl) the owner, under a tenant. */
export async function session<T>(url: string, tenant: string, work: (c: pg.Client) => Promise<T>) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`select set_config('roster.tenant', $1, false)`, [tenant]);
    return await work(client);
  } finally {
    await client.end();
  }
}

/** One statement (`?` placeholders) on a test database, outside Roster's data layer; on PostgreSQL under a tenant. */
export async function raw(
  dialect: TestDialect,
  url: string,
  tenant: string,
  text: string,
  values: unknown[] = [],
) {
  if (dialect === 'postgres') {
    let n = 0;
    const numbered = text.replace(/\?/g, () => `$${++n}`);
    return session(url, tenant, async (c) => (await c.query(numbered, values)).rows);
  }
  const file = new Sqlite(url.slice('sqlite:'.length));
  try {
    const statement = file.prepare(text);
    if (statement.reader) return statement.all(...values) as Record<string, unknown>[];
    statement.run(...values);
    return [];
  } finally {
    file.close();
  }
}
