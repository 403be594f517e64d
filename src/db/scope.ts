import { CompiledQuery, sql } from 'kysely';
import type {
  Insertable,
  Kysely,
  SelectQueryBuilder,
  Transaction,
  UpdateQueryBuilder,
  DeleteQueryBuilder,
  InsertQueryBuilder,
  InsertResult,
  Selectable,
  UpdateResult,
  DeleteResult,
} from 'kysely';
import type { ChangeInput } from '../domain/changes.js';
import type { ChangeLog } from './change-log.js';
import type { Dialect } from './connection.js';
import { runPrepared, type Prepared } from './prepared.js';
import type { Database, TenantTable } from './schema.js';

type Executor = Kysely<Database> | Transaction<Database>;
type TenantInsert<T extends TenantTable> = Omit<Insertable<Database[T]>, 'organisation_id'>;
type Columns<T extends TenantTable> = readonly (readonly [keyof TenantInsert<T> & string, string])[];

/** Rows a PostgreSQL statement of arrays takes; SQLite binds at most 32,766 values a statement. */
const UNNEST_ROWS = 5000;
const SQLITE_VALUES = 32_766;

/**
 * The only way repositories reach tenant tables. Every builder it hands out is already
 * filtered by (or, for inserts, stamped with) the scope's organisation, so a query
 * that forgets its tenant cannot be written. Repositories take a scope as their first
 * parameter; eslint forbids them from calling the raw builders (eslint.config.js).
 * Joined tables must repeat the organisation in their ON clause: see joinOn().
 */
export class TenantScope {
  constructor(
    private readonly executor: Executor,
    readonly organisationId: string,
    readonly dialect: Dialect,
    private readonly log?: ChangeLog,
    private readonly memo?: Map<string, unknown>,
  ) {}

  /**
   * A value of this organisation kept in memory between transactions, where the store allows it
   * (SQLite: one process, so forget() beside every write of its source keeps it exact); loaded
   * every time otherwise.
   */
  async remembered<T>(name: string, load: () => Promise<T>): Promise<T> {
    if (!this.memo) return load();
    const key = `${this.organisationId}:${name}`;
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const value = await load();
    this.memo.set(key, value);
    return value;
  }

  forget(name: string): void {
    this.memo?.delete(`${this.organisationId}:${name}`);
  }

  /**
   * Logs a change this transaction makes (db/change-log.ts): its author and sequence number are
   * the transaction's, given when it commits. Outside a transaction opened with its author it
   * throws, so a write path that forgot to say who acts fails loudly instead of going unlogged.
   */
  record(change: ChangeInput): void {
    if (!this.log?.author)
      throw new Error(
        `A change (${change.type}) was made outside a transaction opened with its author: use store.transaction(actor, ...)`,
      );
    this.log.pending.push({ ...change, organisationId: this.organisationId, at: Date.now() });
  }

  selectFrom<T extends TenantTable>(table: T): SelectQueryBuilder<Database, T, object> {
    return this.executor
      .selectFrom(table as TenantTable)
      .where(
        sql.ref<string>(`${table}.organisation_id`),
        '=',
        this.organisationId,
      ) as unknown as SelectQueryBuilder<Database, T, object>;
  }

  updateTable<T extends TenantTable>(table: T): UpdateQueryBuilder<Database, T, T, UpdateResult> {
    return this.executor
      .updateTable(table as TenantTable)
      .where(
        sql.ref<string>(`${table}.organisation_id`),
        '=',
        this.organisationId,
      ) as unknown as UpdateQueryBuilder<Database, T, T, UpdateResult>;
  }

  deleteFrom<T extends TenantTable>(table: T): DeleteQueryBuilder<Database, T, DeleteResult> {
    return this.executor
      .deleteFrom(table as TenantTable)
      .where(
        sql.ref<string>(`${table}.organisation_id`),
        '=',
        this.organisationId,
      ) as unknown as DeleteQueryBuilder<Database, T, DeleteResult>;
  }

  insertInto<T extends TenantTable>(
    table: T,
    rows: TenantInsert<T> | TenantInsert<T>[],
  ): InsertQueryBuilder<Database, T, InsertResult> {
    const stamped = (Array.isArray(rows) ? rows : [rows]).map((row) => ({
      ...row,
      organisation_id: this.organisationId,
    }));
    return this.executor.insertInto(table).values(stamped as never) as unknown as InsertQueryBuilder<
      Database,
      T,
      InsertResult
    >;
  }

  /**
   * INSERT ... SELECT: the rows of `rows` (a query from this scope's builders), named in order
   * by `columns`, stamped with the organisation as insertInto stamps its rows.
   */
  insertFrom<T extends TenantTable>(
    table: T,
    columns: (keyof TenantInsert<T> & string)[],
    rows: SelectQueryBuilder<Database, TenantTable, object>,
  ): InsertQueryBuilder<Database, T, InsertResult> {
    const stamped = rows.select(sql<string>`cast(${this.organisationId} as text)`.as('organisation_id'));
    return this.executor
      .insertInto(table)
      .columns([...columns, 'organisation_id'] as never)
      .expression(stamped as never) as unknown as InsertQueryBuilder<Database, T, InsertResult>;
  }

  /**
   * PostgreSQL: rows as one INSERT ... SELECT FROM unnest(one array per column), stamped with
   * the organisation: as many parameters as columns whatever the number of rows, so the server
   * parses and plans one short statement instead of a VALUES list of thousands of parameters.
   * `columns` names each column with its SQL type.
   */
  insertUnnest<T extends TenantTable>(
    table: T,
    columns: Columns<T>,
    rows: readonly TenantInsert<T>[],
  ): InsertQueryBuilder<Database, T, InsertResult> {
    const arrays = columns.map(
      ([name, type]) =>
        sql`cast(${rows.map((row) => (row as Record<string, unknown>)[name] ?? null)} as ${sql.raw(type)}[])`,
    );
    return this.executor
      .insertInto(table)
      .columns([...columns.map(([name]) => name), 'organisation_id'] as never)
      .expression(
        sql`select *, cast(${this.organisationId} as text) from unnest(${sql.join(arrays)})` as never,
      ) as unknown as InsertQueryBuilder<Database, T, InsertResult>;
  }

  /**
   * Many rows of the same columns, stamped with the organisation, in as few statements as the
   * database takes, returning `returning` of each. PostgreSQL: insertUnnest. SQLite: one VALUES
   * list a statement whose text is written here from the columns (the same for every full chunk,
   * so prepared once) with the values bound by position: Kysely built and compiled the list value
   * by value, a tenth of an import's CPU.
   */
  async insertMany<T extends TenantTable, R extends keyof Selectable<Database[T]> & string = never>(
    table: T,
    columns: Columns<T>,
    rows: readonly TenantInsert<T>[],
    returning: readonly R[] = [],
  ): Promise<Pick<Selectable<Database[T]>, R>[]> {
    const out: Pick<Selectable<Database[T]>, R>[] = [];
    if (this.dialect === 'postgres') {
      for (let i = 0; i < rows.length; i += UNNEST_ROWS) {
        const insert = this.insertUnnest(table, columns, rows.slice(i, i + UNNEST_ROWS));
        if (returning.length === 0) await insert.execute();
        else out.push(...((await insert.returning(returning as never).execute()) as never[]));
      }
      return out;
    }
    const names = [...columns.map(([name]) => name), 'organisation_id'];
    const size = Math.min(1000, Math.floor(SQLITE_VALUES / names.length));
    const tuple = `(${names.map(() => '?').join(', ')})`;
    const head = `insert into "${table}" (${names.map((name) => `"${name}"`).join(', ')}) values `;
    const tail = returning.length ? ` returning ${returning.map((name) => `"${name}"`).join(', ')}` : '';
    for (let i = 0; i < rows.length; i += size) {
      const chunk = rows.slice(i, i + size);
      const parameters: unknown[] = [];
      for (const row of chunk) {
        for (const [name] of columns) parameters.push((row as Record<string, unknown>)[name] ?? null);
        parameters.push(this.organisationId);
      }
      const text = head + Array(chunk.length).fill(tuple).join(', ') + tail;
      const { rows: inserted } = await this.executor.executeQuery(CompiledQuery.raw(text, parameters));
      out.push(...(inserted as never[]));
    }
    return out;
  }

  /**
   * PostgreSQL: a transaction-scoped advisory lock (`shared`: one others may share, but not an
   * exclusive one) on each of these names within the organisation, held until the transaction ends; taken in one order, so two transactions cannot deadlock on
   * them. SQLite runs one writing transaction at a time: there is nothing to take.
   */
  async lock(names: string[], { shared = false }: { shared?: boolean } = {}): Promise<void> {
    if (this.dialect !== 'postgres' || names.length === 0) return;
    const keys = [...new Set(names)].sort().map((name) => `${this.organisationId}\n${name}`);
    const take = shared ? sql`pg_advisory_xact_lock_shared` : sql`pg_advisory_xact_lock`;
    await sql`select ${take}(hashtextextended(name, 0)) from unnest(cast(${keys} as text[])) as name`.execute(
      this.executor,
    );
  }

  /** The scope's own organisation row: the organisations table keyed by the tenant itself. */
  organisation() {
    return {
      select: () => this.executor.selectFrom('organisations').where('id', '=', this.organisationId),
      update: () => this.executor.updateTable('organisations').where('id', '=', this.organisationId),
    };
  }

  /** Runs a prepared query (prepared.ts) built from this scope's builders, so it is as scoped as they are. */
  run<P extends Record<string, unknown>, O>(query: Prepared<TenantScope, P, O>, values: P): Promise<O[]> {
    return runPrepared(query, this.executor, this.organisationId, this, values);
  }

  /** The tenant condition for a joined table: `.innerJoin('contacts', (j) => scope.joinOn(j, 'contacts').onRef(...))`. */
  joinOn<J extends { on: (lhs: never, op: '=', rhs: string) => J }>(join: J, table: TenantTable): J {
    return join.on(`${table}.organisation_id` as never, '=', this.organisationId);
  }
}
