import type { CreateTableBuilder } from 'kysely';
import type { Dialect } from '../connection.js';

/**
 * The integer primary key every record table has. AUTOINCREMENT in SQLite, so a deleted
 * row's key is never handed out again: the seed APIs expose these keys as ids that must
 * stay unique forever.
 */
export const serialKey = (dialect: Dialect) => (table: CreateTableBuilder<string, never>) =>
  dialect === 'postgres'
    ? table.addColumn('key', 'bigserial', (c) => c.primaryKey())
    : table.addColumn('key', 'integer', (c) => c.primaryKey().autoIncrement());

/** Integer columns that hold keys and epoch milliseconds. */
export const bigintType = (dialect: Dialect) => (dialect === 'postgres' ? 'bigint' : 'integer');
