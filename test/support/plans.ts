import Sqlite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import type { Database } from '../../src/db/schema.js';
import { TenantScope } from '../../src/db/scope.js';
import { session, type TestDatabase, type TestDialect } from './databases.js';

/**
 * The statements a repository call makes, captured on a connection of their own to the test
 * database: on PostgreSQL as the serving role under the tenant, so row-level security binds them
 * as it binds the server's.
 */
export async function statementsOf(
  dialect: TestDialect,
  database: TestDatabase,
  tenant: string,
  work: (scope: TenantScope) => Promise<unknown>,
): Promise<CompiledQuery[]> {
  const statements: CompiledQuery[] = [];
  const log = (event: { query: CompiledQuery }) => void statements.push(event.query);
  let db: Kysely<Database>;
  if (dialect === 'postgres') {
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    pool.on('connect', (c) => void c.query(`select set_config('roster.tenant', $1, false)`, [tenant]));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log });
  } else {
    const file = new Sqlite(database.url.slice('sqlite:'.length), { readonly: true });
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: file }), log });
  }
  try {
    await work(new TenantScope(db, tenant, dialect));
    return statements;
  } finally {
    await db.destroy();
  }
}

/**
 * A statement's plan as text: SQLite's EXPLAIN QUERY PLAN, or PostgreSQL's EXPLAIN ANALYZE run
 * as the serving role under the tenant.
 */
export async function planOf(
  dialect: TestDialect,
  database: TestDatabase,
  tenant: string,
  statement: CompiledQuery,
): Promise<string> {
  const parameters = [...statement.parameters];
  if (dialect === 'postgres')
    return session(database.url, tenant, async (c) =>
      (await c.query(`explain (analyze, format text) ${statement.sql}`, parameters)).rows
        .map((row) => row['QUERY PLAN'] as string)
        .join('\n'),
    );
  const file = new Sqlite(database.url.slice('sqlite:'.length), { readonly: true });
  try {
    return (file.prepare(`explain query plan ${statement.sql}`).all(...parameters) as { detail: string }[])
      .map((row) => row.detail)
      .join('\n');
  } finally {
    file.close();
  }
}
