// The floor for Roster's reads: node:http and better-sqlite3, no framework, doing each read's own
// work on the same database file, by the same indexes: find the API key by the hash of its secret
// with its user, then the contact of that organisation by id (or a page of 50 by name, of all
// contacts or of a group's members), its consent, and the same JSON. What Roster spends beyond
// this is its own (routing, validation, tenancy, the service layers). Run as its own process on
// the server's core; FLOOR_DATABASE is the SQLite file; prints its port.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import Database from 'better-sqlite3';

const db = new Database(process.env.FLOOR_DATABASE, { readonly: true, fileMustExist: true });
db.pragma('cache_size = -4096');

const apiKeyWithUser = db.prepare(
  `select users.id, users.organisation_id, users.is_active, api_keys.revoked_at
     from api_keys join users on users.id = api_keys.user_id and users.organisation_id = api_keys.organisation_id
    where api_keys.secret_hash = ?`,
);
const CONSENT = `contact_consent.channel as consent_channel, contact_consent.status as consent_status,
  contact_consent.changed_at as consent_changed_at, contact_consent.source as consent_source`;
const contactById = db.prepare(
  `select contacts.*, ${CONSENT} from contacts
     left join contact_consent on contact_consent.organisation_id = contacts.organisation_id
      and contact_consent.contact_key = contacts.key
    where contacts.organisation_id = ? and contacts.id = ? and contacts.deleted_at is null`,
);
const firstPage = db.prepare(
  `select * from contacts where organisation_id = ? and deleted_at is null order by sort_name, key limit 51`,
);
const groupById = db.prepare(`select key from groups where organisation_id = ? and id = ?`);
const groupPage = db.prepare(
  `select contacts.* from memberships cross join contacts
    where memberships.organisation_id = ? and memberships.group_key = ?
      and contacts.organisation_id = memberships.organisation_id and contacts.key = memberships.contact_key
      and contacts.deleted_at is null
    order by memberships.sort_name, memberships.contact_key limit 51`,
);
const consentOf = db.prepare(
  `select contact_key, channel, status, changed_at, source from contact_consent
    where organisation_id = ? and contact_key in (select value from json_each(?))`,
);

const iso = (ms) => (ms === null ? null : new Date(ms).toISOString());
const contactJson = (row, consent) => ({
  id: row.id,
  name: row.display_name,
  first_name: row.first_name,
  middle_name: row.middle_name,
  last_name: row.last_name,
  company: row.company,
  phone: row.phone,
  phone_raw: row.phone_raw,
  phone_valid: row.phone_valid === null ? null : row.phone_valid === 1,
  email: row.email,
  channel: row.channel,
  avatar_url: row.avatar_url,
  language: row.language,
  custom: JSON.parse(row.custom),
  external_ids: JSON.parse(row.external_ids),
  consent,
  user_id: row.user_id,
  created_by: row.created_by,
  created_at: iso(row.created_at),
  updated_at: iso(row.updated_at),
  deleted_at: iso(row.deleted_at),
  version: row.version,
});
const entry = (status, changedAt, source) => ({ status, changed_at: iso(changedAt), source });

function byId(org, id) {
  const rows = contactById.all(org, id);
  if (rows.length === 0) return undefined;
  const consent = {};
  for (const r of rows)
    if (r.consent_channel !== null)
      consent[r.consent_channel] = entry(r.consent_status, r.consent_changed_at, r.consent_source);
  return contactJson(rows[0], consent);
}

function page(org, rows) {
  const items = rows.slice(0, 50);
  const consent = new Map();
  for (const c of consentOf.all(org, JSON.stringify(items.map((r) => r.key)))) {
    const of = consent.get(c.contact_key) ?? {};
    of[c.channel] = entry(c.status, c.changed_at, c.source);
    consent.set(c.contact_key, of);
  }
  const last = items.at(-1);
  return {
    items: items.map((r) => contactJson(r, consent.get(r.key) ?? {})),
    next_cursor: rows.length > 50 ? `${last.sort_name}:${last.key}` : null,
  };
}

function answer(request) {
  const token = request.headers.authorization?.slice(7) ?? '';
  const user = apiKeyWithUser.get(createHash('sha256').update(token).digest('hex'));
  if (!user || user.revoked_at !== null || user.is_active !== 1) return [401, { title: 'Unauthenticated' }];
  const url = new URL(request.url, 'http://floor');
  const parts = url.pathname.split('/');
  if (parts[2] === 'contacts' && parts.length === 4) {
    const contact = byId(user.organisation_id, parts[3]);
    return contact ? [200, contact] : [404, { title: 'Not found' }];
  }
  if (parts[2] === 'contacts') return [200, page(user.organisation_id, firstPage.all(user.organisation_id))];
  if (parts[2] === 'groups' && parts[4] === 'members') {
    const group = groupById.get(user.organisation_id, parts[3]);
    if (!group) return [404, { title: 'Not found' }];
    return [200, page(user.organisation_id, groupPage.all(user.organisation_id, group.key))];
  }
  return [404, { title: 'Not found' }];
}

const server = createServer((request, response) => {
  const [status, body] = answer(request);
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
});
server.keepAliveTimeout = 60_000;
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
console.log(JSON.stringify({ port: server.address().port }));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
