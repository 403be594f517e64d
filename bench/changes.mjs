// The change log's cost (docs/performance.md, "Changes and webhooks"). In the same run, rounds interleaved:
//   - POST /v1/contacts and PATCH /v1/contacts/{id} rates of the server without the log (the build at
//     BENCH_BASELINE, e.g. main before issue 18, built) against this build with the log and one active webhook
//     endpoint delivering to a local receiver; medians over BENCH_ROUNDS;
//   - deliveries a second: BENCH_EVENTS changes queued with the worker stopped, then the time the worker takes to
//     deliver them all to a local receiver (in this process, SQLite).
// `npm run build && BENCH_BASELINE=/path/to/other/checkout node bench/changes.mjs`
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { openStore } from '../dist/db/store.js';
import { createServices } from '../dist/services/index.js';
import { freePort, pinning, ROOT, startNode, stop, waitUntilServing } from './lib/processes.mjs';
import { median } from './lib/report.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const BASELINE = process.env.BENCH_BASELINE;
if (!BASELINE) throw new Error('set BENCH_BASELINE to a built checkout without the change log (e.g. main)');

const PASSWORD = 'bench-password-not-secret';
const cores = pinning();

/** A receiver answering 204 at once, counting what it got. */
async function receiver() {
  let count = 0;
  const waiters = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(204).end();
      count += 1;
      for (const w of waiters.splice(0)) w();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    get count() {
      return count;
    },
    until: async (n) => {
      while (count < n) await new Promise((resolve) => waiters.push(resolve));
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function startServer(root, dir) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = startNode([join(root, 'bin/roster.js'), 'serve'], {
    cpu: cores.pinned ? cores.server : undefined,
    env: {
      DATABASE_URL: `sqlite:${join(dir, 'roster.db')}`,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ROSTER_RATE_LIMIT: '0',
      ROSTER_ADMIN_USERNAME: 'bench',
      ROSTER_ADMIN_PASSWORD: PASSWORD,
      ROSTER_IMPORT_DIR: join(dir, 'imports'),
      ROSTER_SECRET_KEY: 'bench secret key',
      ROSTER_WEBHOOK_ALLOW_PRIVATE: 'true',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitUntilServing(`${url}/readyz`, child, performance.now());
  const basic = `Basic ${Buffer.from(`bench:${PASSWORD}`).toString('base64')}`;
  const key = await (
    await fetch(`${url}/v1/api-keys`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench' }),
    })
  ).json();
  return { child, url, auth: `Bearer ${key.key}` };
}

/** Successful requests a second of one load: POST contacts, or PATCH one of `ids` in turn. */
async function rate(url, auth, kind, ids) {
  let n = 0;
  const headers = { authorization: auth, 'content-type': 'application/json' };
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        setupRequest: (request) => {
          n += 1;
          return kind === 'post'
            ? {
                ...request,
                method: 'POST',
                path: '/v1/contacts',
                headers,
                body: JSON.stringify({ name: `Bench ${n}` }),
              }
            : {
                ...request,
                method: 'PATCH',
                path: `/v1/contacts/${ids[n % ids.length]}`,
                headers,
                body: JSON.stringify({ company: `Company ${n}` }),
              };
        },
      },
    ],
  });
  return result['2xx'] / (result.duration || SECONDS);
}

async function writeRates(root, withWebhook) {
  const dir = mkdtempSync(join(tmpdir(), 'roster-bench-changes-'));
  const hook = withWebhook ? await receiver() : undefined;
  const server = await startServer(root, dir);
  try {
    if (hook) {
      const res = await fetch(`${server.url}/v1/webhooks`, {
        method: 'POST',
        headers: { authorization: server.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ url: hook.url, events: ['*'] }),
      });
      if (res.status !== 201) throw new Error(`webhook: ${res.status} ${await res.text()}`);
    }
    const post = await rate(server.url, server.auth, 'post');
    const page = await (
      await fetch(`${server.url}/v1/contacts?limit=500`, { headers: { authorization: server.auth } })
    ).json();
    const patch = await rate(
      server.url,
      server.auth,
      'patch',
      page.items.map((c) => c.id),
    );
    return { post, patch, delivered: hook?.count ?? 0 };
  } finally {
    await stop(server.child);
    hook?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Deliveries a second: EVENTS changes queued with the worker stopped, then all delivered. */
async function deliveryRate() {
  const dir = mkdtempSync(join(tmpdir(), 'roster-bench-deliveries-'));
  const hook = await receiver();
  const databaseUrl = `sqlite:${join(dir, 'roster.db')}`;
  const store = openStore({ url: databaseUrl });
  await store.migrate();
  const services = await createServices(store, {
    accessTokenTtlSeconds: 60,
    refreshTokenTtlSeconds: 60,
    databaseUrl,
    secretKey: 'bench secret key',
    webhookAllowPrivate: true,
    webhookTimeoutMs: 10_000,
  });
  try {
    const org = await services.accounts.createOrganisation({ name: 'Deliveries bench' });
    await services.accounts.createUser(null, org.id, {
      username: 'bench',
      password: PASSWORD,
      role: 'owner',
    });
    const actor = await services.accounts.operatorActor(org.id);
    await services.webhooks.create(actor, { url: hook.url, events: ['group.created'] });
    for (let i = 0; i < EVENTS; i += 100)
      await Promise.all(
        Array.from({ length: Math.min(100, EVENTS - i) }, (_, j) =>
          services.groups.create(actor, { name: `G ${i + j}` }),
        ),
      );
    const started = performance.now();
    services.deliveries.start((error) => console.error(error));
    await hook.until(EVENTS);
    return EVENTS / ((performance.now() - started) / 1000);
  } finally {
    await services.deliveries.stop();
    hook.close();
    await services.rateLimiter.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = { baseline: [], logOnly: [], log: [], deliveries: [] };
console.log(
  `load average before: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; ${cores.note}`,
);
for (let round = 1; round <= ROUNDS; round++) {
  rows.baseline.push(await writeRates(BASELINE, false));
  rows.logOnly.push(await writeRates(ROOT, false));
  rows.log.push(await writeRates(ROOT, true));
  rows.deliveries.push(await deliveryRate());
  const [b, l] = [rows.baseline.at(-1), rows.log.at(-1)];
  console.log(
    `round ${round}: POST ${b.post.toFixed(0)} -> ${rows.logOnly.at(-1).post.toFixed(0)} (log) -> ${l.post.toFixed(0)}/s (log + webhook), ` +
      `PATCH ${b.patch.toFixed(0)} -> ${rows.logOnly.at(-1).patch.toFixed(0)} -> ${l.patch.toFixed(0)}/s ` +
      `(${l.delivered} delivered meanwhile), deliveries ${rows.deliveries.at(-1).toFixed(0)}/s`,
  );
}
const m = (list, key) => median(list.map((r) => r[key]));
const [postB, postL, patchB, patchL] = [
  m(rows.baseline, 'post'),
  m(rows.log, 'post'),
  m(rows.baseline, 'patch'),
  m(rows.log, 'patch'),
];
console.log(
  [
    `medians over ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections, SQLite:`,
    `  POST /v1/contacts   without the log ${postB.toFixed(0)}/s, with the log and a webhook ${postL.toFixed(0)}/s (${((100 * postL) / postB).toFixed(0)}%)`,
    `  PATCH /v1/contacts  without the log ${patchB.toFixed(0)}/s, with the log and a webhook ${patchL.toFixed(0)}/s (${((100 * patchL) / patchB).toFixed(0)}%)`,
    `  deliveries to a local receiver: ${median(rows.deliveries).toFixed(0)}/s (${EVENTS} queued events)`,
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  ].join('\n'),
);
