// The benchmark's dataset: 10 organisations, the largest with BENCH_CONTACTS contacts (1,000,000 by
// default), BENCH_GROUPS groups (contacts / 100) and about 3 memberships per contact. Rows are made by
// Roster's own code (ContactsService.fieldsFrom: normalised phones, search words, phone_unique; the
// repositories' inserts) but in big transactions instead of through the import path, which runs at
// about 11,000 rows/s. Built once per dataset version and size, then reused: SQLite as a file under
// bench/results/, PostgreSQL as a template database.
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { FIRST_NAMES } from './names.mjs';
import { exclusively, onInterrupt } from './scratch.mjs';
import { openStore } from '../../dist/db/store.js';
import { insertContacts } from '../../dist/db/repositories/contacts.js';
import { addMembers } from '../../dist/db/repositories/memberships.js';
import { operator } from '../../dist/services/context.js';
import { uuidv7 } from '../../dist/domain/ids.js';
import { createServices } from '../../dist/services/index.js';

/**
 * Bump when the rows change shape, so stale caches are not reused: a dataset migrated instead
 * would put the migration's backfill into the cold-start figure (2: memberships' sort_name).
 */
const VERSION = 2;
const ORGANISATIONS = 10;
const PASSWORD = 'bench-password-not-secret';
const BATCH = 10_000;
const APP_ROLE = 'roster_bench_app';

const FIRST = [...FIRST_NAMES, 'Ingrid'];
const SYLLABLES = ['ka', 'lo', 'min', 'ser', 'ta', 'vo', 'ran', 'bel', 'dū', 'chi', 'mor', 'ne', 'sa', 'fin'];
SYLLABLES.push('go', 'wel', 'hu', 'pe', 'tor', 'ly', 'quin', 'ez', 'ba', 'rö');
const COMPANY = [null, null, null, 'Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Wayne'];

export function datasetSize(env = process.env) {
  const contacts = Number(env.BENCH_CONTACTS ?? 1_000_000);
  const groups = Number(env.BENCH_GROUPS ?? Math.max(10, Math.round(contacts / 100)));
  return { contacts, groups };
}

/** A surname from three syllables: about 14,000 of them, so a surname matches ~70 of 1,000,000 people. */
const surname = (n) => {
  const s = SYLLABLES.length;
  const word = SYLLABLES[n % s] + SYLLABLES[Math.floor(n / s) % s] + SYLLABLES[Math.floor(n / s / s) % s];
  return word[0].toUpperCase() + word.slice(1);
};

/** A deterministic spread of i over [0, 1). */
const spread = (i, salt) => {
  let x = Math.imul(i ^ (salt * 0x9e3779b9), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return ((x ^ (x >>> 16)) >>> 0) / 2 ** 32;
};

/** A mobile number as people write it; unique per n below 10,000,000 (0410 000 000 upwards). */
export function mobile(n, base = 10_000_000) {
  const local = String(base + n);
  switch (n % 3) {
    case 0:
      return `04${local.slice(0, 2)} ${local.slice(2, 5)} ${local.slice(5)}`;
    case 1:
      return `+61 4${local}`;
    default:
      return `04${local}`;
  }
}

/** Mailbox names as providers hand them out: plain ASCII. */
const mailbox = (name) =>
  name
    .normalize('NFD')
    .replace(/ł/gi, 'l')
    .replace(/ø/gi, 'o')
    .replace(/[^a-z]/gi, '')
    .toLowerCase();

export function personInput(i) {
  const first = FIRST[i % FIRST.length];
  const last = surname(Math.floor(spread(i, 1) * SYLLABLES.length ** 3));
  return {
    first_name: first,
    last_name: last,
    company: COMPANY[i % COMPANY.length],
    phone: mobile(i),
    email: `${mailbox(first)}.${mailbox(last)}.${i}@example.com`,
    custom: { tier: i % 3 === 0 ? 'gold' : 'silver' },
  };
}

/**
 * The groups of contact i: one drawn with a long tail (group 0 holds about a tenth of everyone,
 * like an "all subscribers" list) and two uniform ones; about 3 per contact.
 */
function groupsOf(i, groupCount) {
  const skewed = Math.floor(groupCount * spread(i, 2) ** 4);
  return [...new Set([skewed, Math.floor(spread(i, 3) * groupCount), Math.floor(spread(i, 4) * groupCount)])];
}

async function buildOrganisation(services, store, n, size, log) {
  const org = await services.accounts.createOrganisation({ name: `Bench ${n}`, default_country: 'AU' });
  const user = await services.accounts.createUser(null, org.id, {
    username: `bench-${n}`,
    password: PASSWORD,
    role: 'owner',
  });
  const apiKey = await services.accounts.createApiKey(null, org.id, { name: 'bench', user_id: user.id });
  const actor = await services.accounts.operatorActor(org.id);

  const groups = [];
  for (let g = 0; g < size.groups; g++)
    groups.push(await services.groups.create(actor, { name: `${surname(g * 7919)} list ${g}` }));

  const started = Date.now() - size.contacts * 1000;
  const keys = new Array(size.contacts);
  const ids = new Array(size.contacts);
  for (let from = 0; from < size.contacts; from += BATCH) {
    const rows = [];
    const consent = [];
    for (let i = from; i < Math.min(from + BATCH, size.contacts); i++) {
      const at = started + i * 1000;
      const fields = await services.contacts.fieldsFrom(actor, org, personInput(i));
      ids[i] = uuidv7(at);
      rows.push({
        ...fields,
        id: ids[i],
        created_by: user.id,
        created_at: at,
        updated_at: at,
        deleted_at: null,
        version: 1,
      });
    }
    await store.transaction(operator(org.id), async (scope) => {
      const inserted = await insertContacts(scope, rows);
      for (let i = from; i < from + rows.length; i++) {
        keys[i] = inserted.get(ids[i]);
        if (i % 5 < 3)
          consent.push({
            contact_key: keys[i],
            channel: 'sms',
            status: 'subscribed',
            changed_at: started + i * 1000,
            source: 'import',
          });
      }
      for (let c = 0; c < consent.length; c += 1000)
        await scope.insertInto('contact_consent', consent.slice(c, c + 1000)).execute();
    });
    if (log && (from / BATCH) % 10 === 9) log(`  ${org.name}: ${from + rows.length} contacts`);
  }

  const members = groups.map(() => []);
  for (let i = 0; i < size.contacts; i++) for (const g of groupsOf(i, size.groups)) members[g].push(keys[i]);
  let pending = [];
  const flush = () =>
    store.transaction(operator(org.id), async (scope) => {
      // addMembers counts what it adds into the group's member_count.
      for (const [g, list] of pending) await addMembers(scope, groups[g].key, list, user.id, Date.now());
      pending = [];
    });
  let queued = 0;
  for (let g = 0; g < groups.length; g++) {
    pending.push([g, members[g]]);
    queued += members[g].length;
    if (queued >= 100_000) {
      await flush();
      queued = 0;
    }
  }
  await flush();

  // What the scenarios need: credentials, ids to read, a big and a typical group, ids to add to groups.
  const bySize = groups
    .map((g, i) => ({ id: g.id, key: g.key, members: members[i].length }))
    .sort((a, b) => b.members - a.members);
  return {
    id: org.id,
    username: user.username,
    password: PASSWORD,
    apiKey: apiKey.key,
    contacts: size.contacts,
    groups: size.groups,
    memberships: members.reduce((sum, m) => sum + m.length, 0),
    bigGroup: bySize[0],
    typicalGroup: bySize[Math.floor(bySize.length / 2)],
    contactIds: ids,
    contactKeys: keys,
    sampleNames: [0, 1, 2, 3].map((i) => personInput(Math.floor(size.contacts / 2) + i * 7)),
  };
}

async function build(url, size, log) {
  const store = openStore({ url, sqliteSynchronous: 'NORMAL' });
  await store.migrate();
  const services = await createServices(store, { accessTokenTtlSeconds: 3600, refreshTokenTtlSeconds: 3600 });
  const organisations = [];
  for (let n = 0; n < ORGANISATIONS; n++) {
    const orgSize =
      n === 0
        ? size
        : { contacts: Math.round(size.contacts / 100), groups: Math.max(1, Math.round(size.groups / 100)) };
    organisations.push(await buildOrganisation(services, store, n, orgSize, n === 0 ? log : undefined));
  }
  await store.refreshStatistics();
  await services.rateLimiter.close();
  await store.close();
  const [largest] = organisations;
  return {
    version: VERSION,
    size,
    largest,
    others: organisations
      .slice(1)
      .map(({ contactIds, contactKeys: _keys, ...o }) => ({ ...o, contactIds: contactIds.slice(0, 10) })),
  };
}

/** A cached dataset gets the migrations added since it was built once, not at every cold start. */
async function migrated(url, ownerUrl) {
  const store = openStore({ url, ownerUrl });
  await store.migrate();
  await store.close();
}

const metaPath = (dir, name) => join(dir, `${name}.json`);

/**
 * The SQLite dataset for this size: built (and cached) when missing, copied fresh into the run's
 * own directory. Runs started together build it once: the others wait, then copy it.
 */
export async function sqliteDataset(dir, runDir, log) {
  const size = datasetSize();
  const name = `dataset-v${VERSION}-${size.contacts}-${size.groups}`;
  const file = join(dir, `${name}.db`);
  const copy = join(runDir, 'roster.db');
  const cached = await exclusively(
    file,
    async () => {
      const found = existsSync(file) && existsSync(metaPath(dir, name));
      if (!found) {
        log(`building the SQLite dataset (${size.contacts} contacts, ${size.groups} groups): ${file}`);
        const started = performance.now();
        const partial = `${file}.partial`;
        rmSync(partial, { force: true });
        const meta = await build(`sqlite:${partial}`, size, log);
        renameSync(partial, file);
        const buildSeconds = (performance.now() - started) / 1000;
        writeFileSync(metaPath(dir, name), JSON.stringify({ ...meta, buildSeconds }));
      }
      await migrated(`sqlite:${file}`);
      copyFileSync(file, copy);
      return found;
    },
    log,
  );
  const meta = JSON.parse(readFileSync(metaPath(dir, name), 'utf8'));
  return { url: `sqlite:${copy}`, meta, cached, buildSeconds: meta.buildSeconds };
}

async function admin(url, work) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The PostgreSQL dataset: a template database built once, cloned (CREATE DATABASE ... TEMPLATE) for a run. */
export async function postgresDataset(baseUrl, dir, log) {
  const size = datasetSize();
  const name = `dataset-v${VERSION}-${size.contacts}-${size.groups}`;
  const template = `roster_bench_v${VERSION}_${size.contacts}_${size.groups}`;
  // The run's own database, as its SQLite copy is in its own directory.
  const run = `roster_bench_run_${process.pid}`;
  const urlOf = (db) => Object.assign(new URL(baseUrl), { pathname: `/${db}` }).toString();
  const appUrl = (db) => Object.assign(new URL(urlOf(db)), { username: APP_ROLE }).toString();
  const drop = () => admin(baseUrl, (c) => c.query(`drop database if exists ${run} with (force)`));
  // Building, migrating and cloning the template each need it to themselves.
  const cached = await exclusively(
    join(dir, `${name}-pg`),
    async () => {
      const exists = await admin(
        baseUrl,
        async (c) =>
          (await c.query('select 1 from pg_database where datname = $1', [template])).rowCount === 1,
      );
      const found = exists && existsSync(metaPath(dir, `${name}-pg`));
      if (!found) {
        log(
          `building the PostgreSQL dataset (${size.contacts} contacts, ${size.groups} groups): ${template}`,
        );
        const started = performance.now();
        await admin(baseUrl, async (c) => {
          await c.query(`drop database if exists ${template} with (force)`);
          await c.query(`create database ${template}`);
        });
        const meta = await build(urlOf(template), size, log);
        await admin(urlOf(template), (c) => c.query('vacuum analyze'));
        writeFileSync(
          metaPath(dir, `${name}-pg`),
          JSON.stringify({ ...meta, buildSeconds: (performance.now() - started) / 1000 }),
        );
      }
      // Served as the README's PostgreSQL setup: a role that owns no table, so row-level security binds it.
      await admin(baseUrl, (c) =>
        c.query(
          `do $$ begin if not exists (select from pg_roles where rolname = '${APP_ROLE}') then create role ${APP_ROLE} login; end if; end $$`,
        ),
      );
      await migrated(appUrl(template), urlOf(template));
      onInterrupt(drop);
      await admin(baseUrl, (c) => c.query(`create database ${run} template ${template}`));
      return found;
    },
    log,
  );
  const meta = JSON.parse(readFileSync(metaPath(dir, `${name}-pg`), 'utf8'));
  return {
    url: appUrl(run),
    ownerUrl: urlOf(run),
    meta,
    cached,
    buildSeconds: meta.buildSeconds,
    drop,
  };
}
