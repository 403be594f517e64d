// Where a PostgreSQL import's time goes, statement by statement: imports the generated file alone
// (no floor, no export) into a scratch database and prints each statement's summed wall time and
// count, parameters folded. See docs/performance.md (sixth pass).
// Usage: npm run build && BENCH_DATABASE_URL=postgres://... node bench/import-statements.mjs [ROWS]
// (ROWS 50000; the file is bench/import-export.mjs's, made by bench/generate-contacts.mjs.)
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { importFile, organisation } from './lib/bulk-import.mjs';
import { runDirectory } from './lib/scratch.mjs';

const rows = Number(process.argv[2] ?? 50_000);
const base = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const file = `bench/results/contacts-${rows}.csv`;
if (!existsSync(file)) execFileSync('node', ['bench/generate-contacts.mjs', String(rows), file]);

/** Each statement's text, its parameters and value lists folded, with its summed milliseconds and count. */
const times = new Map();
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, values, callback) {
  const text = typeof config === 'string' ? config : (config?.text ?? '?');
  const key = text
    .replace(/\$\d+/g, '$')
    .replace(/(\$, )+\$/g, '$...')
    .replace(/\s+/g, ' ')
    .slice(0, 110);
  const started = performance.now();
  const result = query.call(this, config, values, callback);
  const add = () => {
    const entry = times.get(key) ?? { ms: 0, count: 0 };
    entry.ms += performance.now() - started;
    entry.count++;
    times.set(key, entry);
  };
  result?.then?.(add, add);
  return result;
};
// Loaded after the wrapping, though the wrapping is on the prototype they share.
const { openStore } = await import('../dist/db/store.js');
const { createServices } = await import('../dist/services/index.js');

const name = `roster_statements_${process.pid}`;
const admin = async (sql) => {
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  await client.query(sql);
  await client.end();
};
await admin(`create database ${name}`);
const store = openStore({ url: Object.assign(new URL(base), { pathname: `/${name}` }).toString() });
try {
  await store.migrate();
  const services = await createServices(store, {
    accessTokenTtlSeconds: 60,
    refreshTokenTtlSeconds: 60,
    importDirectory: join(runDirectory('bench/results'), 'imports'),
  });
  const { actor } = await organisation(services, 'Statements');
  times.clear();
  const { done, seconds } = await importFile(services, actor, file);
  const total = [...times.values()].reduce((sum, t) => sum + t.ms, 0);
  console.log(
    `${done.status}: ${done.rows_read} rows in ${seconds.toFixed(1)} s, ${Math.round(done.rows_read / seconds)} rows/s; statements ${(total / 1000).toFixed(1)} s`,
  );
  for (const [text, t] of [...times].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20))
    console.log(`${Math.round(t.ms).toString().padStart(7)} ms ${String(t.count).padStart(6)}x  ${text}`);
  await services.rateLimiter.close();
} finally {
  await store.close();
  await admin(`drop database if exists ${name} with (force)`);
}
