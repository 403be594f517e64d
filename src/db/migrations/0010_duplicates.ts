import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../connection.js';
import { keyRowsOf, type KeyedContact } from '../repositories/duplicate-keys.js';
import { bigintType, serialKey } from './columns.js';
import { tenantPolicy } from './0004_row_level_security.js';

const TABLES = ['duplicate_keys', 'duplicate_sets', 'merges'];
const BACKFILL_BATCH = 5000;

/**
 * Duplicate candidates from indexed keys instead of comparing contacts in pairs:
 * - duplicate_keys: each live contact's keys (src/domain/duplicates.ts), written by the contacts
 *   repository wherever it writes a contact;
 * - duplicate_sets: the key values two or more live contacts share, so a page of candidates is
 *   a range of this table whatever the share of contacts with no duplicate;
 * - merges: each merge's before-image, which its undo puts back;
 * - contacts.merged_into: the survivor's id on a contact merged into it.
 * The keys are computed by the domain's rules (libphonenumber-js readings, Unicode names), which
 * SQL cannot run, so the backfill reads every contact here, in batches.
 */
export function duplicates(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      // Kysely runs SQLite's migrations outside a transaction (PostgreSQL's inside one): one here.
      if (dialect === 'postgres') await create(db, dialect);
      else await db.transaction().execute((trx) => create(trx, dialect));
    },
  };
}

async function create(db: Kysely<any>, dialect: Dialect) {
  const bigint = bigintType(dialect);
  await db.schema.alterTable('contacts').addColumn('merged_into', 'text').execute();
  await db.schema
    .createTable('duplicate_keys')
    .addColumn('organisation_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('contact_key', bigint, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('duplicate_sets')
    .addColumn('organisation_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('duplicate_sets_pk', ['organisation_id', 'kind', 'value'])
    .execute();
  await serialKey(dialect)(db.schema.createTable('merges'))
    .addColumn('organisation_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('survivor_key', bigint, (c) => c.notNull())
    .addColumn('merged_keys', 'text', (c) => c.notNull())
    .addColumn('before', 'text', (c) => c.notNull())
    .addColumn('after', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', bigint, (c) => c.notNull())
    .addColumn('undone_at', bigint)
    .addColumn('undo_report', 'text')
    .execute();
  await db.schema
    .createIndex('merges_org_id')
    .unique()
    .on('merges')
    .columns(['organisation_id', 'id'])
    .execute();

  if (dialect === 'postgres') {
    // Every organisation's contacts, read past their policy as their owner, inside this
    // migration's transaction (as 0005); the new tables get theirs after the backfill.
    await sql`alter table contacts no force row level security`.execute(db);
    await backfill(db);
    await sql`alter table contacts force row level security`.execute(db);
    for (const table of TABLES) await tenantPolicy(db, table);
  } else await backfill(db);
  // Built after the rows are in. The key finds a value's contacts; the second index a contact's keys.
  await db.schema
    .createIndex('duplicate_keys_value')
    .unique()
    .on('duplicate_keys')
    .columns(['organisation_id', 'kind', 'value', 'contact_key'])
    .execute();
  await db.schema
    .createIndex('duplicate_keys_contact')
    .on('duplicate_keys')
    .columns(['organisation_id', 'contact_key'])
    .execute();
}

async function backfill(db: Kysely<any>) {
  for (let after = 0; ;) {
    const rows = await db
      .selectFrom('contacts')
      .selectAll()
      .where('key', '>', after)
      .where('deleted_at', 'is', null)
      .orderBy('key')
      .limit(BACKFILL_BATCH)
      .execute();
    if (rows.length === 0) break;
    const keys = rows.flatMap((row) =>
      // Before 0017 a contact had no lists of numbers and addresses: its columns say all.
      keyRowsOf({ phones: null, emails: null, ...row } as KeyedContact).map((k) => ({
        ...k,
        organisation_id: row.organisation_id,
      })),
    );
    for (let i = 0; i < keys.length; i += 1000)
      await db
        .insertInto('duplicate_keys')
        .values(keys.slice(i, i + 1000))
        .execute();
    after = rows[rows.length - 1]!.key;
  }
  await sql`insert into duplicate_sets (organisation_id, kind, value)
    select organisation_id, kind, value from duplicate_keys
    group by organisation_id, kind, value having count(*) > 1`.execute(db);
}
