import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../connection.js';

/**
 * Seed 001's survey state leaves the core contact: the column `survey` becomes `extensions`, what each
 * compatibility surface keeps of a contact under its own name (`{"seed-001": {"transaction": ...}}`), which
 * Roster stores and never reads. The before-images of import undo logs and merges are renamed with it, so an
 * undo of either, taken before, still puts the state back.
 */
export function contactExtensions(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      const tables = ['contacts', 'import_changes', 'merges'];
      // The owner is bound by the forced policies too: lifted for this transaction, which holds the tables' locks.
      if (dialect === 'postgres')
        for (const table of tables)
          await sql`alter table ${sql.table(table)} no force row level security`.execute(db);
      await sql`alter table contacts rename column survey to extensions`.execute(db);
      await db
        .updateTable('contacts')
        .set({
          extensions:
            dialect === 'postgres'
              ? sql`json_build_object('seed-001', json_build_object('transaction', extensions::json))::text`
              : sql`json_object('seed-001', json_object('transaction', json(extensions)))`,
        })
        .where('extensions', 'is not', null)
        .execute();
      await renameInImages(db, dialect, 'import_changes', (image) => renamed(image));
      await renameInImages(db, dialect, 'merges', (image) => ({
        ...image,
        contacts: (image.contacts as { row: Record<string, unknown> }[]).map((c) => ({
          ...c,
          row: renamed(c.row),
        })),
      }));
      if (dialect === 'postgres')
        for (const table of tables)
          await sql`alter table ${sql.table(table)} force row level security`.execute(db);
    },
  };
}

/** A contact row's columns with `survey` (JSON text or null) as `extensions`. */
function renamed({ survey, ...row }: Record<string, unknown>): Record<string, unknown> {
  const transaction = typeof survey === 'string' ? JSON.parse(survey) : null;
  return {
    ...row,
    extensions: transaction === null ? null : JSON.stringify({ 'seed-001': { transaction } }),
  };
}

/** Rewrites the `before` JSON of the rows of a table that hold a contact's `survey` column. */
async function renameInImages(
  db: Kysely<any>,
  dialect: Dialect,
  table: string,
  rewrite: (image: Record<string, unknown>) => Record<string, unknown>,
): Promise<void> {
  // Each row by its physical address: these tables' keys differ, and the rows are not otherwise written meanwhile.
  const address = sql.raw(dialect === 'postgres' ? 'ctid' : 'rowid');
  const { rows } = await sql<{
    address: string;
    before: string;
  }>`select cast(${address} as text) as address, before
    from ${sql.table(table)} where before like ${'%"survey":%'}`.execute(db);
  for (const row of rows)
    await sql`update ${sql.table(table)} set before = ${JSON.stringify(rewrite(JSON.parse(row.before)))}
      where cast(${address} as text) = ${row.address}`.execute(db);
}
