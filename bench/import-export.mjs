// Times a bulk import and an export of the generated file through Roster's services, and the
// peak memory of the process doing it. SQLite always; PostgreSQL too when BENCH_DATABASE_URL is set.
// Usage: npm run build && node bench/import-export.mjs [ROWS]
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { openStore } from '../dist/db/store.js';
import { exportRow } from '../dist/domain/formats/writers.js';
import { createServices } from '../dist/services/index.js';
import { runDirectory } from './lib/scratch.mjs';

const rows = Number(process.argv[2] ?? process.env.BENCH_ROWS ?? 1_000_000);
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

async function run(name, url) {
  const store = openStore({ url, sqliteSynchronous: 'NORMAL' });
  await store.migrate();
  const dir = join(runDir, `imports-${name}`);
  const services = await createServices(store, {
    accessTokenTtlSeconds: 60,
    refreshTokenTtlSeconds: 60,
    importDirectory: dir,
  });
  const org = await services.accounts.createOrganisation({
    name: `Bench ${Date.now()}`,
    default_country: 'AU',
  });
  const user = await services.accounts.createUser(null, org.id, {
    username: `bench-${Date.now()}`,
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

  peakRss = 0;
  const started = performance.now();
  const { createReadStream } = await import('node:fs');
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
  const importSeconds = (performance.now() - started) / 1000;
  const importRss = peakRss;
  const reasons = {};
  for await (const e of services.imports.errors(actor, job.id)) {
    const reason = e.reason.replace(/\d+/g, 'N');
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  }

  peakRss = 0;
  const exportStarted = performance.now();
  let exported = 0;
  let bytes = 0;
  for await (const contact of services.contacts.all(actor, {})) {
    bytes += exportRow('csv', contact).length;
    // The loop never yields to timers (the driver answers in microtasks), so memory is sampled here.
    if (++exported % 1000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const exportSeconds = (performance.now() - exportStarted) / 1000;
  const result = {
    database: name,
    rows,
    import: {
      seconds: +importSeconds.toFixed(2),
      rows_per_second: Math.round(rows / importSeconds),
      peak_rss_mb: Math.round(importRss / 2 ** 20),
      counts: {
        created: done.created,
        updated: done.updated,
        unchanged: done.unchanged,
        skipped: done.skipped,
        failed: done.failed,
      },
      failures: reasons,
    },
    export: {
      seconds: +exportSeconds.toFixed(2),
      rows: exported,
      rows_per_second: Math.round(exported / exportSeconds),
      bytes,
      peak_rss_mb: Math.round(peakRss / 2 ** 20),
    },
  };
  await services.rateLimiter.close();
  await store.close();
  return result;
}

const results = [];
results.push(await run('sqlite', `sqlite:${join(runDir, 'roster.db')}`));
if (process.env.BENCH_DATABASE_URL) results.push(await run('postgres', process.env.BENCH_DATABASE_URL));
clearInterval(sampler);
for (const r of results) {
  console.log(
    `${r.database}: import ${r.rows} rows in ${r.import.seconds}s = ${r.import.rows_per_second} rows/s (peak RSS ${r.import.peak_rss_mb} MB) ${JSON.stringify(r.import.counts)} ${JSON.stringify(r.import.failures)}`,
  );
  console.log(
    `${r.database}: export ${r.export.rows} rows in ${r.export.seconds}s = ${r.export.rows_per_second} rows/s (peak RSS ${r.export.peak_rss_mb} MB)`,
  );
}
writeFileSync(
  `bench/results/import-export-${Date.now()}.json`,
  JSON.stringify({ node: process.version, results }, null, 2),
);
