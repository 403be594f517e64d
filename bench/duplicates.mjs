// Duplicate candidates at scale: builds (once, cached under bench/results/) a SQLite organisation
// of BENCH_CONTACTS people (1,000,000 by default) from the benchmark dataset's generator, plus a
// twin of every 500th person (the same address in capitals), through the repositories' inserts,
// which keep the duplicate keys; then times pages of candidates against a page of contacts (the
// floor), medians over rounds. `npm run build && node bench/duplicates.mjs`; with BENCH_POSTGRES_URL (a server's
// URL, e.g. postgres://postgres@127.0.0.1:5432/postgres) the same on a PostgreSQL database of its own, dropped after.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import pg from 'pg';
import { openStore } from '../dist/db/store.js';
import { insertContacts } from '../dist/db/repositories/contacts.js';
import { operator } from '../dist/services/context.js';
import { uuidv7 } from '../dist/domain/ids.js';
import { createServices } from '../dist/services/index.js';
import { personInput } from './lib/dataset.mjs';

const N = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const BATCH = 10_000;
const TWIN_EVERY = 500;
mkdirSync('bench/results', { recursive: true });
const file = `bench/results/duplicates-${N}.db`;

const pgBase = process.env.BENCH_POSTGRES_URL;
const dialect = pgBase ? 'PostgreSQL' : 'SQLite';

async function build(url) {
  const store = openStore({ url });
  await store.migrate();
  const services = await createServices(store, { accessTokenTtlSeconds: 60, refreshTokenTtlSeconds: 60 });
  const org = await services.accounts.createOrganisation({ name: 'Duplicates bench', default_country: 'AU' });
  const user = await services.accounts.createUser(null, org.id, {
    username: `dup-bench-${process.pid}`,
    password: 'bench-password-not-secret',
    role: 'owner',
  });
  const actor = await services.accounts.operatorActor(org.id);
  const started = performance.now();
  for (let from = 0; from < N; from += BATCH) {
    const rows = [];
    for (let i = from; i < Math.min(from + BATCH, N); i++) {
      const person = personInput(i);
      const inputs = [person];
      if (i % TWIN_EVERY === 0) inputs.push({ ...person, phone: null, email: person.email.toUpperCase() });
      for (const input of inputs) {
        const fields = await services.contacts.fieldsFrom(actor, org, input);
        const at = Date.now();
        rows.push({
          ...fields,
          id: uuidv7(at),
          created_by: user.id,
          created_at: at,
          updated_at: at,
          deleted_at: null,
          version: 1,
        });
      }
    }
    await store.transaction(operator(org.id), (scope) => insertContacts(scope, rows));
    if ((from / BATCH) % 10 === 9) console.log(`  ${from + BATCH} people`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `built ${N} people in ${seconds.toFixed(0)} s (${Math.round(N / seconds)} contacts/s, duplicate keys kept)`,
  );
  await store.refreshStatistics();
  await services.rateLimiter.close();
  await store.close();
}

async function admin(statement) {
  const client = new pg.Client({ connectionString: pgBase });
  await client.connect();
  await client.query(statement);
  await client.end();
}

let url = `sqlite:${file}`;
let drop = async () => {};
if (pgBase) {
  const name = `roster_bench_duplicates_${process.pid}`;
  await admin(`create database ${name}`);
  url = Object.assign(new URL(pgBase), { pathname: `/${name}` }).toString();
  drop = () => admin(`drop database if exists ${name} with (force)`);
  await build(url);
} else if (!existsSync(file)) {
  rmSync(`${file}.partial`, { force: true });
  await build(`sqlite:${file}.partial`);
  renameSync(`${file}.partial`, file);
}

const store = openStore({ url });
await store.migrate();
const services = await createServices(store, { accessTokenTtlSeconds: 60, refreshTokenTtlSeconds: 60 });
const org = await store.db
  .selectFrom('organisations')
  .select('id')
  .where('name', '=', 'Duplicates bench')
  .executeTakeFirstOrThrow();
const actor = await services.accounts.operatorActor(org.id);
const scope = store.scope(org.id);
const count = async (table) =>
  Number(
    (
      await scope
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
console.log(
  `contacts: ${await count('contacts')}, duplicate keys: ${await count('duplicate_keys')}, candidate sets: ${await count('duplicate_sets')}`,
);

/** The cursor `pages` pages in (or of the last page), for a page from the middle of the list. */
async function cursorAfter(pages) {
  let cursor;
  let walked = 0;
  for (; walked < pages; walked++) {
    const next = (await services.duplicates.list(actor, { limit: 50, cursor })).next_cursor;
    if (!next) break;
    cursor = next;
  }
  return { cursor, walked };
}
const deep = await cursorAfter(200);
const cases = {
  'contacts, a page of 50 (floor)': () => services.contacts.list(actor, { limit: 50 }),
  'duplicates, first page of 50': () => services.duplicates.list(actor, { limit: 50 }),
  [`duplicates, page ${deep.walked + 1} of 50`]: () =>
    services.duplicates.list(actor, { limit: 50, cursor: deep.cursor }),
  'duplicates, min_score=0.8, a page of 50': () =>
    services.duplicates.list(actor, { limit: 50, min_score: 0.8 }),
};
const times = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++)
  for (const [name, run] of Object.entries(cases)) {
    const t = performance.now();
    const page = await run();
    times[name].push(performance.now() - t);
    if (round === 0) console.log(`  ${name}: ${page.items.length} items`);
  }
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const floor = median(times['contacts, a page of 50 (floor)']);
console.log(`\n| case (${N} people, ${dialect}) | median ms | × floor |\n|---|---:|---:|`);
for (const [name, xs] of Object.entries(times))
  console.log(`| ${name} | ${median(xs).toFixed(2)} | ${(median(xs) / floor).toFixed(1)} |`);
await services.rateLimiter.close();
await store.close();
await drop();
