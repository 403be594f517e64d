// The floors of the bulk paths, measured in the same run as Roster's (bench/import-export.mjs):
// what the database and the writer cost when nothing of Roster's stands between them.
//   import: the same file read and normalised by Roster's own code (not timed), duplicates and
//     bad rows dropped, then the rows Roster would create inserted by a hand-written loop into
//     the same schema (every index; the search index is kept by its triggers: FTS5 on SQLite,
//     contact_words on PostgreSQL; their other numbers and addresses in contact_handles) with
//     their memberships of the target group, one transaction
//     per batch of the same size; and what Roster writes beside every contact it creates: its
//     duplicate keys (the rows the domain's rules give, computed outside the clock like the
//     normalisation) and the candidate sets they make, one change-log entry a contact and one a
//     batch for the group's members, numbered from the organisation's counter. The undo log,
//     the duplicate lookups and the job's progress are Roster's own work and not in it.
//     `baseSeconds` is the time of the contacts and memberships alone (the floor before the
//     keys and the change log were added to it), measured inside the same transactions.
//   export: a hand-written SELECT of the same rows in key order, written as CSV by Roster's writer.
import Database from 'better-sqlite3';
import pg from 'pg';
import { detailsOf, otherHandlesOf } from '../../dist/db/repositories/contact-codec.js';
import { keyRowsOf } from '../../dist/db/repositories/duplicate-keys.js';
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

/** The file's rows as Roster would create them, a batch at a time (normalised by ContactsService), each with its duplicate keys. */
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
      yield withKeys(batch);
      batch = [];
    }
  }
  if (batch.length) yield withKeys(batch);
}

/**
 * A batch's rows and, beside them, each row's duplicate keys as the domain's rules give them and
 * its numbers and addresses besides the primary ones (contact_handles; none in the generated file).
 */
const withKeys = (rows) => ({
  rows,
  keys: rows.map((row) => keyRowsOf({ ...row, key: 0 })),
  handles: rows.map((row) => otherHandlesOf(row)),
});

/** The change log's columns of an entry the import writes (its author is the import job). */
const changeOf = (author, at, type, resourceId, version, data) => ({
  type,
  resource_type: type.slice(0, type.indexOf('.')),
  resource_id: resourceId,
  version,
  user_id: author.userId,
  credential_kind: 'import',
  credential_id: author.importId,
  surface: 'import',
  occurred_at: at,
  data,
});

/** A batch's change-log entries: one a contact created, then one naming the group's new members. */
function changesOf({ rows }, group, author) {
  const at = Date.now();
  return [
    ...rows.map((row) => changeOf(author, at, 'contact.created', row.id, 1, null)),
    changeOf(
      author,
      at,
      'group.members_added',
      group.id,
      null,
      JSON.stringify({ contact_ids: rows.map((r) => r.id) }),
    ),
  ];
}
const CHANGE_COLUMNS = Object.keys(changeOf({}, 0, 'a.b', '', null, null));

/** The distinct key values of a batch, each once: those that may have become candidate sets. */
function distinctKeys(keys) {
  const seen = new Map();
  for (const k of keys) seen.set(`${k.kind}\n${k.value}`, k);
  return [...seen.values()];
}

/**
 * SQLite: one prepared single-row statement for each row written (values bound by position),
 * a transaction a batch, on a connection set as Roster's writer is (its page cache;
 * checkpoints left to the checkpointer thread of Roster's store, open on the same file).
 */
function sqliteWriter(file, { group, author, columns }) {
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
  const insertKey = db.prepare(
    'insert into duplicate_keys (organisation_id, kind, value, contact_key) values (?, ?, ?, ?)',
  );
  const insertHandle = db.prepare(
    'insert into contact_handles (organisation_id, kind, value, contact_key) values (?, ?, ?, ?)',
  );
  // A value two contacts hold is a set; counting at most two holders keeps a value thousands share cheap.
  const insertSet = db.prepare(
    `insert or ignore into duplicate_sets (organisation_id, kind, value) select @org, @kind, @value
     where (select count(*) from (select 1 from duplicate_keys where organisation_id = @org and kind = @kind and value = @value limit 2)) = 2`,
  );
  const takeSequence = db.prepare(
    `insert into change_counters (organisation_id, seq) values (?, ?)
     on conflict (organisation_id) do update set seq = seq + excluded.seq returning seq`,
  );
  const insertChange = db.prepare(
    `insert into changes (organisation_id, seq, ${CHANGE_COLUMNS.join(', ')}) values (?, ?, ${CHANGE_COLUMNS.map(() => '?').join(', ')})`,
  );
  const write = db.transaction((batch) => {
    const started = performance.now();
    const organisationId = batch.rows[0].organisation_id;
    const contactKeys = [];
    batch.rows.forEach((row, i) => {
      const key = insertContact.run(columns.map((c) => row[c])).lastInsertRowid;
      for (const h of batch.handles[i]) insertHandle.run(organisationId, h.kind, h.value, key);
      insertMember.run(organisationId, group.key, key, row.created_at, author.userId, row.sort_name);
      contactKeys.push(key);
    });
    countMembers.run(batch.rows.length, group.key);
    const base = performance.now() - started;
    batch.keys.forEach((keys, i) => {
      for (const k of keys) insertKey.run(organisationId, k.kind, k.value, contactKeys[i]);
    });
    for (const k of distinctKeys(batch.keys.flat()))
      insertSet.run({ org: organisationId, kind: k.kind, value: k.value });
    const changes = changesOf(batch, group, author);
    const last = Number(takeSequence.pluck().get(organisationId, changes.length));
    changes.forEach((change, i) =>
      insertChange.run(
        organisationId,
        last - changes.length + 1 + i,
        ...CHANGE_COLUMNS.map((c) => change[c]),
      ),
    );
    return base;
  });
  return { write: async (batch) => write(batch) / 1000, close: async () => db.close() };
}

/**
 * PostgreSQL: one INSERT ... SELECT FROM unnest(arrays) a batch for each table written (contacts,
 * memberships, duplicate keys, candidate sets, the change log), and the counters' two updates.
 */
async function postgresWriter(url, { group, author, columns }) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const contactsSql = `insert into contacts (${columns.join(', ')})
    select * from unnest(${columns.map((c, i) => `$${i + 1}::${PG_TYPES[c] ?? 'text'}[]`).join(', ')})
    returning key, sort_name, id`;
  const changeTypes = { version: 'int', occurred_at: 'bigint' };
  const changesSql = `insert into changes (organisation_id, seq, ${CHANGE_COLUMNS.join(', ')})
    select $1, $2::bigint + ordinality - 1, ${CHANGE_COLUMNS.join(', ')}
    from unnest(${CHANGE_COLUMNS.map((c, i) => `$${i + 3}::${changeTypes[c] ?? 'text'}[]`).join(', ')})
      with ordinality as t(${CHANGE_COLUMNS.join(', ')}, ordinality)`;
  const write = async (batch) => {
    const { rows } = batch;
    const organisationId = rows[0].organisation_id;
    const started = performance.now();
    await client.query('begin');
    const { rows: keys } = await client.query(
      contactsSql,
      columns.map((c) => rows.map((r) => r[c])),
    );
    const keyOf = new Map(keys.map((k) => [k.id, Number(k.key)]));
    const handles = batch.handles.flatMap((list, i) =>
      list.map((h) => ({ ...h, contact_key: keyOf.get(rows[i].id) })),
    );
    if (handles.length > 0)
      await client.query(
        `insert into contact_handles (organisation_id, kind, value, contact_key)
         select $1, * from unnest($2::text[], $3::text[], $4::bigint[])`,
        [
          organisationId,
          handles.map((h) => h.kind),
          handles.map((h) => h.value),
          handles.map((h) => h.contact_key),
        ],
      );
    await client.query(
      `insert into memberships (organisation_id, group_key, contact_key, added_at, added_by, sort_name)
       select $1, $2, k, $3, $4, s from unnest($5::bigint[], $6::text[]) as t(k, s)`,
      [
        organisationId,
        group.key,
        Date.now(),
        author.userId,
        keys.map((k) => k.key),
        keys.map((k) => k.sort_name),
      ],
    );
    await client.query('update groups set member_count = member_count + $1 where key = $2', [
      rows.length,
      group.key,
    ]);
    const base = performance.now() - started;
    const keyRows = batch.keys.flatMap((list, i) =>
      list.map((k) => ({ ...k, contact_key: keyOf.get(rows[i].id) })),
    );
    await client.query(
      `insert into duplicate_keys (organisation_id, kind, value, contact_key)
       select $1, * from unnest($2::text[], $3::text[], $4::bigint[])`,
      [
        organisationId,
        keyRows.map((k) => k.kind),
        keyRows.map((k) => k.value),
        keyRows.map((k) => k.contact_key),
      ],
    );
    const values = distinctKeys(keyRows);
    await client.query(
      `insert into duplicate_sets (organisation_id, kind, value)
       select $1, t.kind, t.value from unnest($2::text[], $3::text[]) as t(kind, value)
       where (select count(*) from (select 1 from duplicate_keys d
         where d.organisation_id = $1 and d.kind = t.kind and d.value = t.value limit 2) two) = 2
       on conflict do nothing`,
      [organisationId, values.map((k) => k.kind), values.map((k) => k.value)],
    );
    const changes = changesOf(batch, group, author);
    const {
      rows: [{ seq }],
    } = await client.query(
      `insert into change_counters (organisation_id, seq) values ($1, $2)
       on conflict (organisation_id) do update set seq = change_counters.seq + excluded.seq returning seq`,
      [organisationId, changes.length],
    );
    await client.query(changesSql, [
      organisationId,
      Number(seq) - changes.length + 1,
      ...CHANGE_COLUMNS.map((c) => changes.map((change) => change[c])),
    ]);
    await client.query('commit');
    return base / 1000;
  };
  return { write, close: () => client.end() };
}

/**
 * Seconds the import floor spent writing (normalisation and the keys' computation, outside the
 * clock, are Roster's code's), and of them those of its contacts and memberships alone.
 */
export async function importFloor({ database, file, services, actor, org, group, importId, batchSize }) {
  const author = { userId: actor.userId, importId };
  let writer;
  let seconds = 0;
  let baseSeconds = 0;
  let rows = 0;
  try {
    for await (const batch of batchesToCreate({ file, services, actor, org, batchSize })) {
      // Every column of a new contact: what ContactsService.fieldsFrom gives and what a create adds.
      const columns = Object.keys(batch.rows[0]);
      writer ??=
        database.dialect === 'sqlite'
          ? sqliteWriter(database.file, { group, author, columns })
          : await postgresWriter(database.url, { group, author, columns });
      const started = performance.now();
      baseSeconds += await writer.write(batch);
      seconds += (performance.now() - started) / 1000;
      rows += batch.rows.length;
    }
  } finally {
    await writer?.close();
  }
  return { seconds, baseSeconds, rows };
}

/** The contact's columns a file holds (those exportContactRows reads), and the names of its groups. */
const exportSelect = (
  dialect,
) => `select id, display_name as name, first_name, middle_name, last_name, company,
  phone, email, channel, language, avatar_url, title, department, nickname, notes,
  phone_raw, phone_valid, phones, emails, addresses, dates, urls, custom, external_ids,
  (select ${dialect === 'sqlite' ? 'json_group_array(g.name)' : "coalesce(json_agg(g.name), '[]')"}
    from memberships m join groups g on g.organisation_id = m.organisation_id and g.key = m.group_key
    where m.organisation_id = contacts.organisation_id and m.contact_key = contacts.key) as groups
  from contacts`;
/** Roster's writer, on a row as the SELECT gives it (its lists of details read as records show them). */
const csvOf = (row) =>
  exportRow('csv', {
    ...row,
    ...detailsOf(row),
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
