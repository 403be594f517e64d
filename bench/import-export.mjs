// Times a bulk import of the generated file and its export (CSV, vCard, JSON Lines) through
// Roster's services, each against its floor measured in the same round (bench/lib/bulk-floors.mjs),
// and the peak memory of the process doing it. SQLite, and PostgreSQL when BENCH_DATABASE_URL is
// set (BENCH_SQLITE=0: PostgreSQL alone). Rates are rows of the file (import) or contacts written
// (export) per second; "of floor" is Roster's rate over the floor's; medians over BENCH_ROUNDS rounds (1).
// Usage: npm run build && node bench/import-export.mjs [ROWS]
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../dist/db/store.js';
import { createServices } from '../dist/services/index.js';
import { uuidv7 } from '../dist/domain/ids.js';
import { exportFloor, importFloor } from './lib/bulk-floors.mjs';
import { importFile, organisation } from './lib/bulk-import.mjs';
import { median } from './lib/report.mjs';
import { runDirectory } from './lib/scratch.mjs';

const rows = Number(process.argv[2] ?? process.env.BENCH_ROWS ?? 1_000_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 1);
const BATCH_SIZE = 1000;
mkdirSync('bench/results', { recursive: true });
const runDir = runDirectory('bench/results');
const file = `bench/results/contacts-${rows}.csv`;
try {
  statSync(file);
} catch {
  // Made in the run's directory and moved into place whole: another run may be reading it already.
  const made = join(runDir, 'contacts.csv');
  execFileSync('node', ['bench/generate-contacts.mjs', String(rows), made]);
  renameSync(made, file);
}

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
const mb = (bytes) => Math.round(bytes / 2 ** 20);

async function rosterImport(services, actor) {
  peakRss = 0;
  const { done, seconds } = await importFile(services, actor, file);
  if (done.status !== 'completed' || done.rows_read !== rows)
    throw new Error(`the import ended ${done.status} after ${done.rows_read} rows: ${done.error ?? ''}`);
  const failures = {};
  for await (const e of services.imports.errors(actor, done.id)) {
    const reason = e.reason.replace(/\d+/g, 'N');
    failures[reason] = (failures[reason] ?? 0) + 1;
  }
  const { created, updated, unchanged, skipped, failed } = done;
  return {
    seconds,
    peakRssMb: mb(peakRss),
    counts: { created, updated, unchanged, skipped, failed },
    failures,
  };
}

/** Roster's export as the API and the CLI stream it, into a sink that only counts. */
async function rosterExport(services, actor, format) {
  peakRss = 0;
  const started = performance.now();
  let bytes = 0;
  for await (const chunk of services.contacts.export(actor, { format })) {
    bytes += chunk.text.length;
    // The loop may never yield to timers (SQLite answers in microtasks), so memory is sampled here too.
    sampleRss();
  }
  return { seconds: (performance.now() - started) / 1000, bytes, peakRssMb: mb(peakRss) };
}

/**
 * One round: Roster's import and the floor's, each into a database of its own that the rounds
 * before left in the same state (an import into a database the other had just grown was slower
 * for that alone), then Roster's exports of what it imported and the floor's export of the same rows.
 */
async function round(roster, floor) {
  const ours = await organisation(roster.services, 'Bench');
  const theirs = await organisation(floor.services, 'Floor');
  const result = { import: {}, export: {} };

  result.import.roster = await rosterImport(roster.services, ours.actor);
  const group = await floor.services.groups.create(theirs.actor, { name: 'Bench' });
  result.import.floor = await importFloor({
    database: floor.database,
    file,
    services: floor.services,
    actor: theirs.actor,
    org: theirs.org,
    group,
    importId: uuidv7(),
    batchSize: BATCH_SIZE,
  });
  result.import.created = result.import.roster.counts.created;

  let floorBytes = 0;
  const exported = await exportFloor({
    database: roster.database,
    organisationId: ours.org.id,
    sink: (chunk) => (floorBytes += chunk.length),
  });
  result.export.floor = { ...exported, bytes: floorBytes };
  for (const format of ['csv', 'vcf', 'jsonl'])
    result.export[format] = await rosterExport(roster.services, ours.actor, format);
  return result;
}

/** A migrated database with Roster's services on it; `database` is how the floors reach it. */
async function open(name, url) {
  const store = openStore({ url, sqliteSynchronous: 'NORMAL' });
  await store.migrate();
  const services = await createServices(store, {
    accessTokenTtlSeconds: 60,
    refreshTokenTtlSeconds: 60,
    importDirectory: join(runDir, `imports-${name}`),
  });
  const database = url.startsWith('sqlite:')
    ? { dialect: 'sqlite', file: url.slice('sqlite:'.length) }
    : { dialect: 'postgres', url };
  return {
    services,
    database,
    close: async () => {
      await services.rateLimiter.close();
      await store.close();
    },
  };
}

async function run(name, url, floorUrl) {
  const roster = await open(name, url);
  const floor = await open(`${name}-floor`, floorUrl);
  const results = [];
  try {
    for (let r = 0; r < rounds; r++) {
      results.push(await round(roster, floor));
      console.log(`${name} round ${r + 1}: ${JSON.stringify(summary(results.slice(-1)))}`);
    }
  } finally {
    await roster.close();
    await floor.close();
  }
  return { database: name, rows, rounds: results, summary: summary(results) };
}

/** PostgreSQL: a fresh database of the run's own (Roster's, or the floor's), dropped at the end. */
async function postgresScratch(url, role) {
  const name = `roster_bench_${role}_${process.pid}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const twin = Object.assign(new URL(url), { pathname: `/${name}` }).toString();
  const drop = async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  };
  return { url: twin, drop };
}

/** Medians over rounds: rates, and each as a share of its floor's rate in the same round. */
function summary(results) {
  const rate = (count, seconds) => Math.round(count / seconds);
  const imports = results.map((r) => ({
    roster: rate(rows, r.import.roster.seconds),
    floor: rate(rows, r.import.floor.seconds),
    base: rate(rows, r.import.floor.baseSeconds),
  }));
  const exportOf = (format) =>
    results.map((r) => ({
      roster: rate(r.import.created, r.export[format].seconds),
      floor: rate(r.export.floor.rows, r.export.floor.seconds),
    }));
  const medians = (list) => ({
    rows_per_second: median(list.map((x) => x.roster)),
    floor_rows_per_second: median(list.map((x) => x.floor)),
    of_floor: +median(list.map((x) => x.roster / x.floor)).toFixed(2),
  });
  const last = results.at(-1);
  return {
    import: {
      ...medians(imports),
      // The floor before it wrote the keys and the change log: its contacts and memberships alone.
      base_floor_rows_per_second: median(imports.map((x) => x.base)),
      of_base_floor: +median(imports.map((x) => x.roster / x.base)).toFixed(2),
      peak_rss_mb: Math.max(...results.map((r) => r.import.roster.peakRssMb)),
      counts: last.import.roster.counts,
      failures: last.import.roster.failures,
    },
    export: Object.fromEntries(
      ['csv', 'vcf', 'jsonl'].map((format) => [
        format,
        {
          ...medians(exportOf(format)),
          peak_rss_mb: Math.max(...results.map((r) => r.export[format].peakRssMb)),
        },
      ]),
    ),
  };
}

const results = [];
// BENCH_SQLITE=0 measures PostgreSQL alone (a large file on both took longer than one sitting).
if (process.env.BENCH_SQLITE !== '0')
  results.push(
    await run('sqlite', `sqlite:${join(runDir, 'roster.db')}`, `sqlite:${join(runDir, 'floor.db')}`),
  );
if (process.env.BENCH_DATABASE_URL) {
  const ours = await postgresScratch(process.env.BENCH_DATABASE_URL, 'roster');
  const theirs = await postgresScratch(process.env.BENCH_DATABASE_URL, 'floor');
  try {
    results.push(await run('postgres', ours.url, theirs.url));
  } finally {
    await ours.drop();
    await theirs.drop();
  }
}
clearInterval(sampler);
const fmt = (n) => n.toLocaleString('en');
for (const { database, summary: s } of results) {
  console.log(
    `${database}: import ${fmt(rows)} rows: ${fmt(s.import.rows_per_second)} rows/s, floor ${fmt(s.import.floor_rows_per_second)} rows/s, ${Math.round(s.import.of_floor * 100)}% of floor; contacts and memberships alone ${fmt(s.import.base_floor_rows_per_second)} rows/s, ${Math.round(s.import.of_base_floor * 100)}% (peak RSS ${s.import.peak_rss_mb} MB) ${JSON.stringify(s.import.counts)} ${JSON.stringify(s.import.failures)}`,
  );
  for (const [format, e] of Object.entries(s.export))
    console.log(
      `${database}: export ${format}: ${fmt(e.rows_per_second)} rows/s, CSV floor ${fmt(e.floor_rows_per_second)} rows/s, ${Math.round(e.of_floor * 100)}% of floor (peak RSS ${e.peak_rss_mb} MB)`,
    );
}
writeFileSync(
  `bench/results/import-export-${Date.now()}.json`,
  JSON.stringify({ node: process.version, rounds, results }, null, 2),
);
