import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../connection.js';
import { bigintType, serialKey } from './columns.js';

/**
 * The core tables. Portable types only (see schema.ts); the few dialect differences are
 * the integer primary key and the full-text index behind `q`.
 */
export function core(dialect: Dialect): Migration {
  const isPg = dialect === 'postgres';
  const bigint = bigintType(dialect);
  const serialKeyOf = serialKey(dialect);

  return {
    async up(db: Kysely<any>) {
      await serialKeyOf(db.schema.createTable('organisations'))
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('default_country', 'text', (c) => c.notNull())
        .addColumn('default_language', 'text', (c) => c.notNull())
        .addColumn('allow_duplicate_phones', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();

      await serialKeyOf(db.schema.createTable('users'))
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      await db.schema
        .createIndex('users_org_id')
        .unique()
        .on('users')
        .columns(['organisation_id', 'id'])
        .execute();
      // Usernames are unique in the instance because Basic auth names no organisation.
      await db.schema.createIndex('users_username').unique().on('users').column('username').execute();

      await serialKeyOf(db.schema.createTable('api_keys'))
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('last_used_at', bigint)
        .addColumn('revoked_at', bigint)
        .addColumn('created_at', bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('api_keys_org_id')
        .unique()
        .on('api_keys')
        .columns(['organisation_id', 'id'])
        .execute();
      await db.schema.createIndex('api_keys_secret').unique().on('api_keys').column('secret_hash').execute();

      await db.schema
        .createTable('refresh_tokens')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('family_id', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('expires_at', bigint, (c) => c.notNull())
        .addColumn('revoked_at', bigint)
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('refresh_tokens_pk', ['organisation_id', 'id'])
        .execute();
      await db.schema
        .createIndex('refresh_tokens_hash')
        .unique()
        .on('refresh_tokens')
        .column('token_hash')
        .execute();
      await db.schema
        .createIndex('refresh_tokens_family')
        .on('refresh_tokens')
        .columns(['organisation_id', 'family_id'])
        .execute();

      await serialKeyOf(db.schema.createTable('contacts'))
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('sort_name', 'text', (c) => c.notNull())
        .addColumn('first_name', 'text')
        .addColumn('middle_name', 'text')
        .addColumn('last_name', 'text')
        .addColumn('company', 'text')
        .addColumn('phone', 'text')
        .addColumn('phone_raw', 'text')
        .addColumn('phone_valid', 'integer')
        .addColumn('phone_unique', 'text')
        .addColumn('email', 'text')
        .addColumn('channel', 'text')
        .addColumn('avatar_url', 'text')
        .addColumn('language', 'text')
        .addColumn('custom', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('external_ids', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('survey', 'text')
        .addColumn('user_id', 'text')
        .addColumn('search_doc', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created_by', 'text')
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .addColumn('deleted_at', bigint)
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      const contactIndex = (name: string, columns: string[], unique = false) => {
        const builder = db.schema
          .createIndex(name)
          .on('contacts')
          .columns(['organisation_id', ...columns]);
        return (unique ? builder.unique() : builder).execute();
      };
      await contactIndex('contacts_org_id', ['id'], true);
      await contactIndex('contacts_org_key', ['key'], true);
      // One live contact per number unless the organisation allows duplicates (phone_unique is null then).
      await db.schema
        .createIndex('contacts_org_phone_unique')
        .unique()
        .on('contacts')
        .columns(['organisation_id', 'phone_unique'])
        .where(sql.ref('deleted_at'), 'is', null)
        .execute();
      await contactIndex('contacts_org_phone', ['phone']);
      await contactIndex('contacts_org_email', ['email']);
      await contactIndex('contacts_org_user', ['user_id']);
      await contactIndex('contacts_org_sort_name', ['sort_name', 'key']);
      await contactIndex('contacts_org_created', ['created_at', 'key']);
      await contactIndex('contacts_org_updated', ['updated_at', 'key']);
      await contactIndex('contacts_org_created_by', ['created_by', 'key']);
      if (isPg) {
        // GIN cannot lead with a btree column without the btree_gin extension; the
        // query still filters by organisation through contacts_org_key.
        await sql`create index contacts_search on contacts using gin (to_tsvector('simple', search_doc))`.execute(
          db,
        );
      } else {
        await sql`create virtual table contacts_fts using fts5(search_doc, content='contacts', content_rowid='key', tokenize='unicode61 remove_diacritics 2', prefix='2 3')`.execute(
          db,
        );
        await sql`create trigger contacts_fts_insert after insert on contacts begin
          insert into contacts_fts(rowid, search_doc) values (new.key, new.search_doc); end`.execute(db);
        await sql`create trigger contacts_fts_delete after delete on contacts begin
          insert into contacts_fts(contacts_fts, rowid, search_doc) values ('delete', old.key, old.search_doc); end`.execute(
          db,
        );
        await sql`create trigger contacts_fts_update after update of search_doc on contacts begin
          insert into contacts_fts(contacts_fts, rowid, search_doc) values ('delete', old.key, old.search_doc);
          insert into contacts_fts(rowid, search_doc) values (new.key, new.search_doc); end`.execute(db);
      }

      await db.schema
        .createTable('contact_consent')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('contact_key', bigint, (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('changed_at', bigint, (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('contact_consent_pk', ['organisation_id', 'contact_key', 'channel'])
        .execute();
      await db.schema
        .createIndex('contact_consent_status')
        .on('contact_consent')
        .columns(['organisation_id', 'channel', 'status', 'contact_key'])
        .execute();

      await serialKeyOf(db.schema.createTable('groups'))
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('translations', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('thumbnail_url', 'text')
        .addColumn('external_ids', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('member_count', bigint, (c) => c.notNull().defaultTo(0))
        .addColumn('created_by', 'text')
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .addColumn('deleted_at', bigint)
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      await db.schema
        .createIndex('groups_org_id')
        .unique()
        .on('groups')
        .columns(['organisation_id', 'id'])
        .execute();
      await db.schema
        .createIndex('groups_org_key')
        .unique()
        .on('groups')
        .columns(['organisation_id', 'key'])
        .execute();
      await db.schema
        .createIndex('groups_org_name')
        .on('groups')
        .columns(['organisation_id', 'name', 'key'])
        .execute();
      await db.schema
        .createIndex('groups_org_created')
        .on('groups')
        .columns(['organisation_id', 'created_at', 'key'])
        .execute();
      await db.schema
        .createIndex('groups_one_default')
        .unique()
        .on('groups')
        .columns(['organisation_id', 'is_default'])
        .where(sql.ref('is_default'), '=', 1)
        .where(sql.ref('deleted_at'), 'is', null)
        .execute();

      await db.schema
        .createTable('memberships')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('group_key', bigint, (c) => c.notNull())
        .addColumn('contact_key', bigint, (c) => c.notNull())
        .addColumn('added_at', bigint, (c) => c.notNull())
        .addColumn('added_by', 'text')
        .addPrimaryKeyConstraint('memberships_pk', ['organisation_id', 'group_key', 'contact_key'])
        .execute();
      await db.schema
        .createIndex('memberships_contact')
        .on('memberships')
        .columns(['organisation_id', 'contact_key', 'group_key'])
        .execute();

      await db.schema
        .createTable('idempotency_keys')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['organisation_id', 'user_id', 'idempotency_key'])
        .execute();

      await db.schema
        .createTable('settings')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
