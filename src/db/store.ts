import type { Kysely } from 'kysely';
import { connect, type ConnectionOptions, type Dialect } from './connection.js';
import { migrateToLatest } from './migrate.js';
import type { Database } from './schema.js';
import { TenantScope } from './scope.js';

/**
 * The database as the services see it: tenant scopes, transactions bound to one
 * organisation, and the few instance-level lookups authentication needs (instance.ts).
 */
export interface Store {
  readonly dialect: Dialect;
  readonly durability: string;
  /** For db/ modules only: the services reach tables through scopes. */
  readonly db: Kysely<Database>;
  scope(organisationId: string): TenantScope;
  transaction<T>(organisationId: string, work: (scope: TenantScope) => Promise<T>): Promise<T>;
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export function openStore(options: ConnectionOptions): Store {
  const { dialect, db, durability } = connect(options);
  return {
    dialect,
    durability,
    db,
    scope: (organisationId) => new TenantScope(db, organisationId, dialect),
    transaction: (organisationId, work) =>
      db.transaction().execute((trx) => work(new TenantScope(trx, organisationId, dialect))),
    migrate: async () => {
      await migrateToLatest(db, dialect);
    },
    close: () => db.destroy(),
  };
}
