// The floors of the bulk paths, measured in the same run as Roster's (bench/import-export.mjs):
// what the database and the writer cost when nothing of Roster's stands between them.
//   import: the same file read and normalised by Roster's own code (not timed), duplicates and
//     bad rows dropped, then the rows Roster would create inserted by a hand-written loop into
//     the same schema (every index; the search index is kept by its triggers: FTS5 on SQLite,
//     contact_words on PostgreSQL) with their memberships of the target group, one transaction
//     per batch of the same size. The undo log, the duplicate lookups and the job's progress
//     are Roster's own work and not in it.
//   export: a hand-written SELECT of the same rows in key order, written as CSV by Roster's writer.
import Database from 'better-sqlite3';
import pg from 'pg';
import { readContacts } from '../../dist/domain/formats/index.js';
import { exportHeader, exportRow } from '../../dist/domain/formats/writers.js';
import { uuidv7 } from '../../dist/domain/ids.js';

const PG_TYPES = {
  phone_valid: 'int',
  created_at: 'bigint',
  updated_at: 'bigint',
  deleted_at: 'bigint',
  version: 'int',
};

/** The file's rows as Roster would create them, a batch at a time (normalised by ContactsService). */
async function* batchesToCreate({ file, services, actor, org, batchSize }) {
  const { createReadStream } = await import('node:fs');
  const seen = new Set();
  let batch = [];
  for await (const r of readContacts(createReadStream(file), 'csv', { unmapped: 'custom' })) {
    if ('error' in r) continue;
    let fields;
    try {
      fields = await services.contacts.fieldsFrom(actor, org, r.contact);
    } catch {
      continue;
    }
    const keys = [fields.phone, fields.email].filter(Boolean);
    if (keys.some((k) => seen.has(k))) continue;
    for (const k of keys) seen.add(k);
    const now = Date.now();
    batch.push({
      ...fields,
      organisation_id: org.id,
      id: uuidv7(now),
      created_by: actor.userId,
      created_at: now,
      updated_at: now,
      deleted_at: null,
      version: 1,
    });
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/**
 * SQLite: one prepared single-row insert each for contacts and memberships (values bound by
 * position), a transaction a batch, on a connection set as Roster's writer is (its page cache;
 * checkpoints left to the checkpointer thread of Roster's store, open on the same file).
 */
function sqliteWriter(file, groupKey, userId, columns) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -8192');
  db.pragma('wal_autocheckpoint = 0');
  const insertContact = db.prepare(
    `insert into contacts (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`,
  );
  const insertMember = db.prepare(
    `insert into memberships (organisation_id, group_key, contact_key, added_at, added_by, sort_name) values (?, ?, ?, ?, ?, ?)`,
  );
  const countMembers = db.prepare('update groups set member_count = member_count + ? where key = ?');
  const write = db.transaction((rows) => {
    for (const row of rows) {
      const key = insertContact.run(columns.map((c) => row[c])).lastInsertRowid;
      insertMember.run(row.organisation_id, groupKey, key, row.created_at, userId, row.sort_name);
    }
    countMembers.run(rows.length, groupKey);
  });
  return { write: async (rows) => write(rows), close: async () => db.close() };
}

/** PostgreSQL: one INSERT ... SELECT FROM unnest(arrays) for a batch's contacts and one for its memberships. */
async function postgresWriter(url, groupKey, userId, columns) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const contactsSql = `insert into contacts (${columns.join(', ')})
    select * from unnest(${columns.map((c, i) => `$${i + 1}::${PG_TYPES[c] ?? 'text'}[]`).join(', ')})
    returning key, sort_name`;
  const write = async (rows) => {
    await client.query('begin');
    const { rows: keys } = await client.query(
      contactsSql,
      columns.map((c) => rows.map((r) => r[c])),
    );
    await client.query(
      `insert into memberships (organisation_id, group_key, contact_key, added_at, added_by, sort_name)
       select $1, $2, k, $3, $4, s from unnest($5::bigint[], $6::text[]) as t(k, s)`,
      [
        rows[0].organisation_id,
        groupKey,
        Date.now(),
        userId,
        keys.map((k) => k.key),
        keys.map((k) => k.sort_name),
      ],
    );
    await client.query('update groups set member_count = member_count + $1 where key = $2', [
      rows.length,
      groupKey,
    ]);
    await client.query('commit');
  };
  return { write, close: () => client.end() };
}

/** Seconds the import floor spent writing (normalisation, outside the clock, is Roster's code's). */
export async function importFloor({ database, file, services, actor, org, groupKey, batchSize }) {
  let writer;
  let seconds = 0;
  let rows = 0;
  try {
    for await (const batch of batchesToCreate({ file, services, actor, org, batchSize })) {
      // Every column of a new contact: what ContactsService.fieldsFrom gives and what a create adds.
      const columns = Object.keys(batch[0]);
      writer ??=
        database.dialect === 'sqlite'
          ? sqliteWriter(database.file, groupKey, actor.userId, columns)
          : await postgresWriter(database.url, groupKey, actor.userId, columns);
      const started = performance.now();
      await writer.write(batch);
      seconds += (performance.now() - started) / 1000;
      rows += batch.length;
    }
  } finally {
    await writer?.close();
  }
  return { seconds, rows };
}

/** The contact's columns a file holds, and the names of its groups (a file writes them since issue 17). */
const exportSelect = (
  dialect,
) => `select id, display_name as name, first_name, middle_name, last_name, company,
  phone, email, channel, language, avatar_url, custom, external_ids,
  (select ${dialect === 'sqlite' ? 'json_group_array(g.name)' : "coalesce(json_agg(g.name), '[]')"}
    from memberships m join groups g on g.organisation_id = m.organisation_id and g.key = m.group_key
    where m.organisation_id = contacts.organisation_id and m.contact_key = contacts.key) as groups
  from contacts`;
/** Roster's writer, on a row as the SELECT gives it. */
const csvOf = (row) =>
  exportRow('csv', {
    ...row,
    custom: JSON.parse(row.custom),
    external_ids: JSON.parse(row.external_ids),
    groups: typeof row.groups === 'string' ? JSON.parse(row.groups) : row.groups,
  });

/** The export floor: every live contact of the organisation, in key order, as CSV in chunks of ~64 KiB. */
export async function exportFloor({ database, organisationId, sink }) {
  const started = performance.now();
  let rows = 0;
  let chunk = exportHeader('csv');
  const add = (row) => {
    chunk += csvOf(row);
    rows += 1;
    if (chunk.length >= 65_536) {
      sink(chunk);
      chunk = '';
    }
  };
  if (database.dialect === 'sqlite') {
    const db = new Database(database.file, { readonly: true });
    const select = db.prepare(
      `${exportSelect('sqlite')} where organisation_id = ? and deleted_at is null order by key`,
    );
    for (const row of select.iterate(organisationId)) add(row);
    db.close();
  } else {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    // Keyset chunks of 10,000: what a cursor-less reader of a table this size does.
    let after = 0;
    for (;;) {
      const { rows: page } = await client.query(
        `${exportSelect('postgres').replace('select ', 'select key, ')} where organisation_id = $1 and deleted_at is null and key > $2 order by key limit 10000`,
        [organisationId, after],
      );
      for (const { key, ...row } of page) add(row);
      if (page.length < 10_000) break;
      after = page.at(-1).key;
    }
    await client.end();
  }
  sink(chunk);
  return { seconds: (performance.now() - started) / 1000, rows };
}
