import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../connection.js';
import { tenantPolicy } from './0004_row_level_security.js';

/**
 * PostgreSQL: the words of each contact's search_doc, one row each, for `q`. Under the
 * row-level-security policies the planner uses an index only for conditions whose functions are
 * LEAKPROOF; full-text matching (`@@`) is not, so the GIN index behind `q` went unused and every
 * search scanned the table (5.8 s at 1,000,000 contacts). A prefix is a range of btree
 * comparisons on a "C"-collated word (byte order is code point order), and text comparisons are
 * leakproof. Triggers keep the table in step with contacts, so every write path (requests,
 * imports, their rollback) does. SQLite keeps FTS5 (0001), which has no such limit.
 */
export function contactWords(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect !== 'postgres') return;
      // search_doc holds searchTokens' words (src/domain/contact.ts) joined by spaces, and these
      // are the words: documents and `q` share one tokeniser. (PostgreSQL's text parser, on a
      // C.UTF-8 server, splits words at 14,701 of the characters searchTokens keeps, most of them
      // added in Unicode 15 and 16.) A word over 2,047 bytes is left out, as tsvector left it out,
      // and a btree row could not hold one much longer.
      await sql`create function contact_words_of(doc text) returns setof text
        language sql immutable strict parallel safe as $$
        select distinct word from unnest(string_to_array(doc, ' ')) as word where octet_length(word) <= 2047 $$`.execute(
        db,
      );
      await sql`create table contact_words (
        organisation_id text not null,
        word text collate "C" not null,
        contact_key bigint not null)`.execute(db);
      // The existing contacts, read past their policy: the migration runs as their owner, in one
      // transaction that holds contacts' lock until the triggers below are in place.
      await sql`alter table contacts no force row level security`.execute(db);
      await sql`insert into contact_words (organisation_id, word, contact_key)
        select organisation_id, contact_words_of(search_doc), key from contacts`.execute(db);
      await sql`alter table contacts force row level security`.execute(db);
      // Built after the rows are in: one sort each instead of millions of insertions. The key
      // finds a word's contacts; the second index whether a contact has a word, which is how a
      // search of several words tests the candidates of its rarest (a first name and a surname
      // among 1,000,000 contacts: 528 ms with the key alone, which walks the first name's 52,000
      // entries up to each candidate; 3 ms with both).
      await sql`alter table contact_words add constraint contact_words_pk
        primary key (organisation_id, word, contact_key)`.execute(db);
      await sql`create index contact_words_contact on contact_words (organisation_id, contact_key, word)`.execute(
        db,
      );
      await tenantPolicy(db, 'contact_words');
      // The serving role could not use it (see above); it only cost every write its upkeep.
      await sql`drop index contacts_search`.execute(db);

      // Insert and delete run once per statement (imports insert 500 contacts in one); an update
      // runs only when it changes search_doc, and moves only the words that changed. A contact's
      // key and organisation never change (ContactChanges leaves them out). Each statement runs
      // under the request's tenant, which the policy checks against the rows' organisation.
      await sql`create function contact_words_insert() returns trigger language plpgsql as $$
        begin
          insert into contact_words (organisation_id, word, contact_key)
            select organisation_id, contact_words_of(search_doc), key from inserted;
          return null;
        end $$`.execute(db);
      await sql`create function contact_words_delete() returns trigger language plpgsql as $$
        begin
          delete from contact_words w using
            (select organisation_id, contact_words_of(search_doc) as word, key from removed) r
            where w.organisation_id = r.organisation_id and w.word = r.word and w.contact_key = r.key;
          return null;
        end $$`.execute(db);
      await sql`create function contact_words_update() returns trigger language plpgsql as $$
        declare
          old_words text[] := array(select contact_words_of(old.search_doc));
          new_words text[] := array(select contact_words_of(new.search_doc));
          removed text[] := array(select unnest(old_words) except select unnest(new_words));
          added text[] := array(select unnest(new_words) except select unnest(old_words));
        begin
          if removed <> '{}' then
            delete from contact_words
              where organisation_id = old.organisation_id and contact_key = old.key and word = any (removed);
          end if;
          if added <> '{}' then
            insert into contact_words (organisation_id, word, contact_key)
              select new.organisation_id, unnest(added), new.key;
          end if;
          return null;
        end $$`.execute(db);
      await sql`create trigger contact_words_insert after insert on contacts
        referencing new table as inserted for each statement
        execute function contact_words_insert()`.execute(db);
      await sql`create trigger contact_words_delete after delete on contacts
        referencing old table as removed for each statement
        execute function contact_words_delete()`.execute(db);
      await sql`create trigger contact_words_update after update of search_doc on contacts
        for each row when (old.search_doc is distinct from new.search_doc)
        execute function contact_words_update()`.execute(db);

      // Imports refresh statistics through this owner's function (0004); the words table too now.
      await sql`create or replace function roster_refresh_statistics() returns void language plpgsql
        security definer set search_path = public as $$
        begin analyze contacts, contact_words, memberships, contact_consent, groups; end $$`.execute(db);
      await sql`analyze contact_words`.execute(db);
    },
  };
}
