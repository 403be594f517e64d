import {
  CompiledQuery,
  PostgresDialect,
  type DatabaseConnection,
  type Driver,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryId,
  type QueryResult,
  type TransactionSettings,
  type UnknownRow,
} from 'kysely';

/**
 * PostgreSQL row-level security is the second line of tenancy (the first is TenantScope).
 * Every policy compares a row's organisation with the session setting `roster.tenant`,
 * which this module keeps right for each statement: queries carry their tenant as a tag
 * (a plugin on the scope's executor), and the driver sets the connection's `roster.tenant`
 * before a statement whose tag differs from what the connection already has.
 *
 * An untagged statement runs with no tenant at all, so a query that forgets its
 * organisation sees no tenant row. INSTANCE is the instance-level lookups' tag
 * (credentials by hash, organisations): the policies of the few tables those read
 * let it through; the tables of an organisation's data never do.
 */
export const INSTANCE_TENANT = '*';
export const TENANT_SETTING = 'roster.tenant';

const tags = new WeakMap<QueryId, string>();

export function tenantTag(tenant: string): KyselyPlugin {
  return {
    transformQuery({ node, queryId }: PluginTransformQueryArgs) {
      tags.set(queryId, tenant);
      return node;
    },
    transformResult: async ({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> =>
      result,
  };
}

/** The tenant each pooled connection's session has now; forgotten when a rollback may have undone it. */
const sessionTenant = new WeakMap<DatabaseConnection, string>();

async function enter(connection: DatabaseConnection, compiled: CompiledQuery): Promise<void> {
  const wanted = tags.get(compiled.queryId) ?? '';
  if (sessionTenant.get(connection) === wanted) return;
  await connection.executeQuery(
    CompiledQuery.raw(`select set_config('${TENANT_SETTING}', $1, false)`, [wanted]),
  );
  sessionTenant.set(connection, wanted);
}

class TenantConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    await enter(this.inner, compiled);
    return this.inner.executeQuery<R>(compiled);
  }

  async *streamQuery<R>(compiled: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    await enter(this.inner, compiled);
    yield* this.inner.streamQuery<R>(compiled, chunkSize);
  }
}

const unwrap = (connection: DatabaseConnection) => (connection as TenantConnection).inner;

class TenantDriver implements Driver {
  constructor(private readonly inner: Driver) {}

  init() {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new TenantConnection(await this.inner.acquireConnection());
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    return this.inner.beginTransaction(unwrap(connection), settings);
  }

  commitTransaction(connection: DatabaseConnection) {
    return this.inner.commitTransaction(unwrap(connection));
  }

  rollbackTransaction(connection: DatabaseConnection) {
    // A setting made inside a transaction is undone with it.
    sessionTenant.delete(unwrap(connection));
    return this.inner.rollbackTransaction(unwrap(connection));
  }

  releaseConnection(connection: DatabaseConnection) {
    return this.inner.releaseConnection(unwrap(connection));
  }

  destroy() {
    return this.inner.destroy();
  }
}

/** PostgreSQL's dialect, with every statement run under its tenant's session setting. */
export class TenantPostgresDialect extends PostgresDialect {
  override createDriver(): Driver {
    return new TenantDriver(super.createDriver());
  }
}
