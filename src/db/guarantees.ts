import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/** What the database promises, stated once for the operator in the log line a server starts with. */
export interface RowSecurity {
  enforced: boolean;
  /** One sentence for the operator: what holds, or why it does not. */
  statement: string;
}

/**
 * What PostgreSQL promises about an acknowledged write, read from the server's own settings
 * (it decides, not Roster): with fsync on and synchronous_commit not off, a commit is on disk
 * before it is answered.
 */
export async function describePostgresDurability(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ fsync: string; synchronous_commit: string }>`
    select current_setting('fsync') as fsync, current_setting('synchronous_commit') as synchronous_commit`.execute(
    db,
  );
  const { fsync, synchronous_commit } = rows[0]!;
  const promise =
    fsync === 'on' && synchronous_commit !== 'off'
      ? 'every acknowledged write is on disk before it is answered'
      : 'the last acknowledged writes may be lost if the PostgreSQL server crashes';
  return `PostgreSQL fsync=${fsync}, synchronous_commit=${synchronous_commit}: ${promise}`;
}

export async function describeRowSecurity(db: Kysely<Database>): Promise<RowSecurity> {
  const { rows } = await sql<{ role: string; superuser: boolean; bypass: boolean; owned: number }>`
    select rolname as role, rolsuper as superuser, rolbypassrls as bypass,
      (select count(*)::int from pg_tables where tableowner = current_user and schemaname = current_schema()) as owned
    from pg_roles where rolname = current_user`.execute(db);
  const { role, superuser, bypass, owned } = rows[0]!;
  if (superuser || bypass)
    return {
      enforced: false,
      statement: `PostgreSQL row-level security is bypassed: role ${role} is ${superuser ? 'a superuser' : 'BYPASSRLS'}; serve as a role that owns no table (README, PostgreSQL)`,
    };
  return {
    enforced: true,
    statement:
      owned > 0
        ? `PostgreSQL row-level security enforced (forced on the tables' owner, ${role}); a role that owns no table is safer still (README, PostgreSQL)`
        : `PostgreSQL row-level security enforced: role ${role} owns no table and cannot bypass it`,
  };
}
