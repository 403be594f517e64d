import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type Kysely, type Transaction } from 'kysely';
import { connect, type ConnectionOptions, type Dialect } from './connection.js';
import { migrateToLatest } from './migrate.js';
import type { Database } from './schema.js';
import { TenantScope } from './scope.js';

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
  readonly durability: string;
  /** For db/ modules only: the services reach tenant tables through scopes. */
  readonly db: Kysely<Database>;
  scope(organisationId: string): TenantScope;
  transaction<T>(organisationId: string, work: (scope: TenantScope) => Promise<T>): Promise<T>;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  /** Updates the planner's statistics after bulk changes: without them PostgreSQL plans a grown table as an empty one. */
  refreshStatistics(): Promise<void>;
  close(): Promise<void>;
}

export function openStore(options: ConnectionOptions): Store {
  const { dialect, db: root, durability } = connect(options);
  const current = new AsyncLocalStorage<Transaction<Database>>();
  const executor = () => current.getStore() ?? root;
  return {
    dialect,
    durability,
    get db() {
      return executor();
    },
    scope: (organisationId) => new TenantScope(executor(), organisationId, dialect),
    transaction: (organisationId, work) => {
      const open = current.getStore();
      if (open) return work(new TenantScope(open, organisationId, dialect));
      return root
        .transaction()
        .execute((trx) => current.run(trx, () => work(new TenantScope(trx, organisationId, dialect))));
    },
    migrate: async () => {
      await migrateToLatest(root, dialect);
    },
    refreshStatistics: async () => {
      if (dialect === 'postgres')
        await sql`analyze contacts, memberships, contact_consent, groups`.execute(root);
      else await sql`pragma optimize`.execute(root);
    },
    ping: async () => {
      await sql`select 1`.execute(root);
    },
    close: () => root.destroy(),
  };
}
