import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type Kysely } from 'kysely';
import type { ChangeAuthor } from '../domain/changes.js';
import { commitChanges, type ChangeLog } from './change-log.js';
import { connect, type ConnectionOptions, type Dialect, type PoolStats } from './connection.js';
import { groupCommit } from './group-commit.js';
import { grantDataPrivileges, migrateToLatest } from './migrate.js';
import { retryConflicts } from './retry.js';
import type { Database } from './schema.js';
import { describePostgresDurability, describeRowSecurity, type RowSecurity } from './guarantees.js';
import { TenantScope } from './scope.js';
import { INSTANCE_TENANT, tenantTag } from './tenant-session.js';

export { backupDatabase, restoreDatabase } from './backup.js';

/**
 * The database as the services see it: tenant scopes, transactions bound to one
 * organisation, and the few instance-level lookups authentication needs (instance.ts).
 *
 * Inside a transaction every scope and `db` joins that transaction (AsyncLocalStorage):
 * SQLite has one connection, so a query outside it would wait for the transaction
 * forever, and on PostgreSQL it would not see the transaction's own writes.
 */
export interface Store {
  readonly dialect: Dialect;
  /** What an acknowledged write survives, as the database is configured; logged at start. */
  durability(): Promise<string>;
  /** For db/ modules only: the services reach tenant tables through scopes. */
  readonly db: Kysely<Database>;
  scope(organisationId: string): TenantScope;
  /**
   * Runs `work` in one transaction for `author` (the actor: every change it records names them,
   * db/change-log.ts), or for an organisation id alone when it records no change (sessions).
   */
  transaction<T>(author: ChangeAuthor | string, work: (scope: TenantScope) => Promise<T>): Promise<T>;
  /** Calls `listener` after each commit that queued webhook deliveries (the delivery worker wakes). */
  onDeliveriesQueued(listener: () => void): void;
  /** Wakes the listeners: a service queued deliveries by itself (a test event, a redelivery). */
  deliveriesQueued(): void;
  migrate(): Promise<void>;
  /** Whether the database itself keeps organisations apart too (PostgreSQL row-level security), logged at start. */
  rowSecurity(): Promise<RowSecurity>;
  ping(): Promise<void>;
  /** Updates the planner's statistics after bulk changes: without them PostgreSQL plans a grown table as an empty one. */
  refreshStatistics(): Promise<void>;
  /** PostgreSQL: the request pool's connections (metrics); undefined on SQLite. */
  poolStats(): PoolStats | undefined;
  /**
   * SQLite: a mark that changes whenever any connection, in this process or another, writes to the
   * database, read without a query: what was read while it stays the same is still true. Undefined
   * on PostgreSQL, where another process's writes cannot be known without asking the server.
   */
  changeMark(): string | undefined;
  close(): Promise<void>;
}

/** The transaction a store's work is in, and the changes it will record. */
interface OpenTransaction {
  trx: Kysely<Database>;
  log: ChangeLog;
}

export function openStore(options: ConnectionOptions): Store {
  const { dialect, db: root, durability, pool, changeMark } = connect(options);

  const current = new AsyncLocalStorage<OpenTransaction>();
  // On Node 20 an enabled AsyncLocalStorage runs a hook for every promise the process makes, in
  // every request; it is enabled only while a transaction is open, so reads outside one pay nothing.
  let opened = 0;
  const within = async <T>(open: OpenTransaction, work: () => Promise<T>) => {
    opened++;
    try {
      return await current.run(open, work);
    } finally {
      if (--opened === 0) current.disable();
    }
  };
  // On PostgreSQL every statement carries its tenant to the session (tenant-session.ts).
  const as = <E extends Kysely<Database>>(on: E, tenant: string): E =>
    dialect === 'postgres' ? (on.withPlugin(tenantTag(tenant)) as E) : on;
  // SQLite is served by one process: what it remembers between transactions stays true (scope.remembered).
  const memo = dialect === 'sqlite' ? new Map<string, unknown>() : undefined;
  const scopeOn = (on: Kysely<Database>, organisationId: string, log?: ChangeLog) =>
    new TenantScope(as(on, organisationId), organisationId, dialect, log, memo);
  const listeners: (() => void)[] = [];
  const wake = () => {
    for (const listener of listeners) listener();
  };
  // PostgreSQL: credential lookups come before every request's own queries; on a small pool of
  // their own, neither pool's connections switch tenant on each request (one round trip each).
  const instanceRoot =
    dialect === 'postgres' ? as(connect({ ...options, poolSize: 2 }).db, INSTANCE_TENANT) : root;
  // PostgreSQL runs transactions side by side on its pool; SQLite's single writer commits
  // those waiting together (group-commit.ts).
  const begin =
    dialect === 'postgres'
      ? <T>(work: (trx: Kysely<Database>) => Promise<T>) => root.transaction().execute(work)
      : groupCommit(root);
  return {
    dialect,
    durability: async () => durability ?? describePostgresDurability(root),
    get db() {
      const open = current.getStore();
      return open ? as(open.trx, INSTANCE_TENANT) : instanceRoot;
    },
    scope: (organisationId) => {
      const open = current.getStore();
      return open ? scopeOn(open.trx, organisationId, open.log) : scopeOn(root, organisationId);
    },
    transaction: async (author, work) => {
      const organisationId = typeof author === 'string' ? author : author.organisationId;
      const open = current.getStore();
      if (open) {
        if (typeof author !== 'string') open.log.author ??= author;
        return work(scopeOn(open.trx, organisationId, open.log));
      }
      let queued = 0;
      const result = await retryConflicts(() =>
        begin((trx) => {
          const log: ChangeLog = { author: typeof author === 'string' ? undefined : author, pending: [] };
          return within({ trx, log }, async () => {
            const value = await work(scopeOn(trx, organisationId, log));
            queued = await commitChanges(log, (id) => scopeOn(trx, id, log));
            return value;
          });
        }),
      );
      if (queued > 0) wake();
      return result;
    },
    onDeliveriesQueued: (listener) => void listeners.push(listener),
    deliveriesQueued: () => wake(),
    migrate: async () => {
      if (dialect !== 'postgres' || !options.ownerUrl) {
        await migrateToLatest(root, dialect);
        return;
      }
      const owner = connect({ url: options.ownerUrl, poolSize: 1 }).db;
      try {
        // Processes starting together would grant at once, and PostgreSQL refuses concurrent
        // catalog updates ("tuple concurrently updated"): one at a time, on the pool's one session.
        await sql`select pg_advisory_lock(hashtext('roster_migrate'))`.execute(owner);
        await migrateToLatest(owner, dialect);
        const [serving, owning] = await Promise.all([currentRole(root), currentRole(owner)]);
        if (serving !== owning) await grantDataPrivileges(owner, serving);
      } finally {
        await owner.destroy();
      }
    },
    rowSecurity: async () => {
      if (dialect !== 'postgres')
        return { enforced: false, statement: 'SQLite: organisations are kept apart by the data layer alone' };
      return describeRowSecurity(root);
    },
    refreshStatistics: async () => {
      // The role serving requests owns no table, so ANALYZE runs as the owner (migration 0004).
      if (dialect === 'postgres') await sql`select roster_refresh_statistics()`.execute(root);
      // Within the writer's analysis_limit (connection.ts), not `pragma optimize`'s 2,000 rows.
      else await sql`analyze`.execute(root);
    },
    poolStats: () => pool?.(),
    changeMark: () => changeMark?.(),
    ping: async () => {
      await sql`select 1`.execute(root);
    },
    close: async () => {
      if (instanceRoot !== root) await instanceRoot.destroy();
      await root.destroy();
    },
  };
}

async function currentRole(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ role: string }>`select current_user as role`.execute(db);
  return rows[0]!.role;
}
