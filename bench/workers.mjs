// `roster serve --workers 1` against `--workers 2`: reads (GET a contact by id) and writes (POST a contact),
// on SQLite and (with BENCH_DATABASE_URL or TEST_DATABASE_URL) PostgreSQL, rounds interleaved, medians
// reported with the load average. The load generator (autocannon) runs in this process, on the same cores.
// Usage: npm run build && node bench/workers.mjs   (BENCH_ROUNDS=3, BENCH_SECONDS=8, BENCH_CONNECTIONS=32)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { freePort, startNode, stop, waitUntilServing } from './lib/processes.mjs';
import { median } from './lib/report.mjs';
import { START_FLAGS } from './lib/server.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const pgBase = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
const ADMIN = { username: 'bench', password: 'bench-workers-password' };

async function database(dialect, dir) {
  if (dialect === 'sqlite') return { url: `sqlite:${join(dir, 'roster.db')}`, drop: async () => {} };
  const name = `roster_bench_workers_${process.pid}`;
  const admin = new pg.Client({ connectionString: pgBase });
  await admin.connect();
  await admin.query(`drop database if exists ${name}`);
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(pgBase);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: pgBase });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

async function serve(databaseUrl, workers, dir) {
  const port = await freePort();
  const child = startNode([...START_FLAGS, 'bin/roster.js', 'serve', '--workers', String(workers)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ROSTER_RATE_LIMIT: '0',
      ROSTER_IMPORT_DIR: join(dir, 'imports'),
      ROSTER_ADMIN_USERNAME: ADMIN.username,
      ROSTER_ADMIN_PASSWORD: ADMIN.password,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilServing(`${url}/readyz`, child, performance.now());
  return { url, stop: () => stop(child) };
}

async function call(url, method, path, auth, body) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** An API key of the bootstrap owner, and 2,000 contacts to read. */
async function seed(url) {
  const basic = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
  const me = await call(url, 'GET', '/v1/users?limit=1', basic);
  const key = await call(url, 'POST', '/v1/api-keys', basic, { name: 'bench', user_id: me.items[0].id });
  const auth = `Bearer ${key.key}`;
  const ids = [];
  for (let i = 0; i < 2000; i += 50)
    ids.push(
      ...(
        await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            call(url, 'POST', '/v1/contacts', auth, {
              name: `Seeded ${i + j}`,
              email: `s${i + j}@example.com`,
            }),
          ),
        )
      ).map((c) => c.id),
    );
  return { auth, ids };
}

function load(url, scenario, { auth, ids }, tag) {
  let n = 0;
  const requests =
    scenario === 'reads'
      ? [{ method: 'GET', setupRequest: (r) => ({ ...r, path: `/v1/contacts/${ids[n++ % ids.length]}` }) }]
      : [
          {
            method: 'POST',
            path: '/v1/contacts',
            setupRequest: (r) => ({ ...r, body: JSON.stringify({ name: `Bench ${tag} ${n++}` }) }),
          },
        ];
  return new Promise((resolve, reject) =>
    autocannon(
      {
        url,
        connections,
        duration: seconds,
        headers: { authorization: auth, 'content-type': 'application/json' },
        requests,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    ),
  );
}

const dialects = ['sqlite', ...(pgBase ? ['postgres'] : [])];
const rows = [];
console.log(
  `workers bench: ${rounds} rounds of ${seconds} s, ${connections} connections; load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
for (const dialect of dialects) {
  const dir = mkdtempSync(join(tmpdir(), 'roster-bench-workers-'));
  const db = await database(dialect, dir);
  try {
    const figures = {};
    let data;
    for (let round = 0; round < rounds; round++)
      for (const workers of round % 2 ? [2, 1] : [1, 2]) {
        const server = await serve(db.url, workers, dir);
        try {
          data ??= await seed(server.url);
          for (const scenario of ['reads', 'writes']) {
            const result = await load(server.url, scenario, data, `${workers}-${round}`);
            const key = `${scenario} ${workers}`;
            (figures[key] ??= []).push({
              rps: result.requests.average,
              p99: result.latency.p99,
              errors: result.errors + result.timeouts + result.non2xx,
              load: loadavg()[0],
            });
          }
        } finally {
          await server.stop();
        }
      }
    for (const [key, runs] of Object.entries(figures)) {
      const [scenario, workers] = key.split(' ');
      rows.push({
        database: dialect,
        scenario,
        workers,
        'req/s (median)': Math.round(median(runs.map((r) => r.rps))),
        'p99 ms (median)': median(runs.map((r) => r.p99)),
        errors: runs.reduce((sum, r) => sum + r.errors, 0),
        'load avg': runs.map((r) => r.load.toFixed(1)).join('/'),
      });
    }
  } finally {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}
console.table(rows);
