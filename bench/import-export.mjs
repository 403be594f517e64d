// Times a bulk import of the generated file and its export (CSV, vCard, JSON Lines) through
// Roster's services, each against its floor measured in the same round (bench/lib/bulk-floors.mjs),
// and the peak memory of the process doing it. SQLite always; PostgreSQL too when
// BENCH_DATABASE_URL is set. Rates are rows of the file (import) or contacts written (export) per
// second; "of floor" is Roster's rate over the floor's; medians over BENCH_ROUNDS rounds (1).
// Usage: npm run build && node bench/import-export.mjs [ROWS]
import { createReadStream, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { openStore } from '../dist/db/store.js';
import { createServices } from '../dist/services/index.js';
import { exportFloor, importFloor } from './lib/bulk-floors.mjs';
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

/** A fresh organisation with an owner acting through an API key, as an import's caller is. */
async function organisation(services, name) {
  const org = await services.accounts.createOrganisation({
    name: `${name} ${Date.now()}`,
    default_country: 'AU',
  });
  const user = await services.accounts.createUser(null, org.id, {
    username: `${name.toLowerCase().replace(/\W/g, '-')}-${Date.now()}`,
    password: 'bench-password',
    role: 'owner',
  });
  const actor = {
    organisationId: org.id,
    userId: user.id,
    userKey: user.key,
    role: 'owner',
    credential: 'api_key',
  };
  return { org, actor };
}

async function rosterImport(services, actor) {
  peakRss = 0;
  const started = performance.now();
  const job = await services.imports.start(actor, createReadStream(file), {
    format: 'csv',
    mode: 'upsert',
    group_ids: [],
    group_names: ['Bench'],
    dry_run: false,
    fields: {},
    unmapped: 'custom',
  });
  const done = await services.imports.settled(actor, job.id);
  const seconds = (performance.now() - started) / 1000;
  if (done.status !== 'completed' || done.rows_read !== rows)
    throw new Error(`the import ended ${done.status} after ${done.rows_read} rows: ${done.error ?? ''}`);
  const failures = {};
  for await (const e of services.imports.errors(actor, job.id)) {
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

async function round(database, store, services) {
  const roster = await organisation(services, 'Bench');
  const floor = await organisation(services, 'Floor');
  const result = { import: {}, export: {} };

  result.import.roster = await rosterImport(services, roster.actor);
  const group = await services.groups.create(floor.actor, { name: 'Bench' });
  const fl = await importFloor({
    database,
    file,
    services,
    actor: floor.actor,
    org: floor.org,
    groupKey: group.key,
    batchSize: BATCH_SIZE,
  });
  result.import.floor = fl;
  const { created } = result.import.roster.counts;
  result.import.created = created;

  let floorBytes = 0;
  const flx = await exportFloor({
    database,
    organisationId: roster.org.id,
    sink: (chunk) => (floorBytes += chunk.length),
  });
  result.export.floor = { ...flx, bytes: floorBytes };
  for (const format of ['csv', 'vcf', 'jsonl'])
    result.export[format] = await rosterExport(services, roster.actor, format);
  return result;
}

async function run(name, url) {
  const store = openStore({ url, sqliteSynchronous: 'NORMAL' });
  await store.migrate();
  const services = await createServices(store, {
    accessTokenTtlSeconds: 60,
    refreshTokenTtlSeconds: 60,
    importDirectory: join(runDir, `imports-${name}`),
  });
  const database =
    name === 'sqlite'
      ? { dialect: 'sqlite', file: url.slice('sqlite:'.length) }
      : { dialect: 'postgres', url };
  const results = [];
  try {
    for (let r = 0; r < rounds; r++) {
      results.push(await round(database, store, services));
      console.log(`${name} round ${r + 1}: ${JSON.stringify(summary(results.slice(-1)))}`);
    }
  } finally {
    await services.rateLimiter.close();
    await store.close();
  }
  return { database: name, rows, rounds: results, summary: summary(results) };
}

/** Medians over rounds: rates, and each as a share of its floor's rate in the same round. */
function summary(results) {
  const rate = (count, seconds) => Math.round(count / seconds);
  const imports = results.map((r) => ({
    roster: rate(rows, r.import.roster.seconds),
    floor: rate(rows, r.import.floor.seconds),
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
results.push(await run('sqlite', `sqlite:${join(runDir, 'roster.db')}`));
if (process.env.BENCH_DATABASE_URL) results.push(await run('postgres', process.env.BENCH_DATABASE_URL));
clearInterval(sampler);
const fmt = (n) => n.toLocaleString('en');
for (const { database, summary: s } of results) {
  console.log(
    `${database}: import ${fmt(rows)} rows: ${fmt(s.import.rows_per_second)} rows/s, floor ${fmt(s.import.floor_rows_per_second)} rows/s, ${Math.round(s.import.of_floor * 100)}% of floor (peak RSS ${s.import.peak_rss_mb} MB) ${JSON.stringify(s.import.counts)} ${JSON.stringify(s.import.failures)}`,
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
