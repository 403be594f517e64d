// node bench/ab.mjs <distA> <distB> [scenario] [rounds] [requests]: which of two builds costs less CPU per
// request, on a machine too busy for `npm run bench` to tell. Both builds are loaded in this one process,
// each over its own small SQLite database, and driven by light-my-request (`app.inject`, no sockets) in
// interleaved rounds, so whatever else the machine does weighs on both alike; it prints the median CPU
// time per request of each and their ratio. Build the other side with `git worktree add` + `npm run build`.
//
// Scenarios: get-api-key (default), get-basic, get-jwt, group-page, post-contact, patch-contact.
// SQL_TIMES=1 prints the time each statement of build A takes per request instead;
// PROFILE=file.cpuprofile writes a CPU profile of build A's requests instead.
// CONCURRENCY=64 keeps that many requests in flight (default 1: one after the other).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const [distA, distB, scenario = 'get-api-key', rounds = '9', perRound = '2000'] = process.argv.slice(2);
if (!distA || !distB) {
  console.error('usage: node bench/ab.mjs <distA> <distB> [scenario] [rounds] [requests per round]');
  process.exit(2);
}
const PASSWORD = 'ab-password-not-secret';
const CONTACTS = 500;

/** One build's app over a fresh database: an organisation, an owner, 500 contacts, a group of 200. */
async function setup(dist) {
  const { openStore } = await import(join(resolve(dist), 'db/store.js'));
  const { createServices } = await import(join(resolve(dist), 'services/index.js'));
  const { buildApp } = await import(join(resolve(dist), 'http/app.js'));
  const dir = mkdtempSync(join(tmpdir(), 'roster-ab-'));
  const store = openStore({ url: `sqlite:${join(dir, 'roster.db')}` });
  await store.migrate();
  const services = await createServices(store, {
    jwtSecret: 'ab-'.repeat(16),
    accessTokenTtlSeconds: 900,
    refreshTokenTtlSeconds: 86400,
    importDirectory: dir,
  });
  const app = await buildApp(services, { logLevel: 'warn' });
  const org = await services.accounts.createOrganisation({ name: 'AB', default_country: 'AU' });
  const user = await services.accounts.createUser(null, org.id, {
    username: `ab-${dir.slice(-6)}`,
    password: PASSWORD,
    role: 'owner',
  });
  const key = await services.accounts.createApiKey(null, org.id, { name: 'ab', user_id: user.id });
  const login = await app.inject({
    method: 'POST',
    url: '/v1/auth/token',
    payload: { username: user.username, password: PASSWORD },
  });
  const auth = {
    key: `Bearer ${key.key}`,
    basic: `Basic ${Buffer.from(`${user.username}:${PASSWORD}`).toString('base64')}`,
    jwt: `Bearer ${login.json().access_token}`,
  };
  const as = (authorization, request) => ({ ...request, headers: { authorization } });
  const ids = [];
  // Each contact's current ETag, for patch-contact's If-Match.
  const etags = new Map();
  for (let i = 0; i < CONTACTS; i++) {
    const created = await app.inject(
      as(auth.key, {
        method: 'POST',
        url: '/v1/contacts',
        payload: { first_name: `N${i}`, last_name: 'Ab', phone: `+6141${1_000_000 + i}` },
      }),
    );
    ids.push(created.json().id);
    etags.set(created.json().id, created.headers.etag);
  }
  const group = (
    await app.inject(as(auth.key, { method: 'POST', url: '/v1/groups', payload: { name: 'G' } }))
  ).json();
  await app.inject(
    as(auth.key, {
      method: 'POST',
      url: `/v1/groups/${group.id}/members`,
      payload: { contact_ids: ids.slice(0, 200) },
    }),
  );
  let n = 0;
  let phone = 5_000_000;
  const byId = (authorization) => () =>
    as(authorization, { method: 'GET', url: `/v1/contacts/${ids[n++ % ids.length]}` });
  const scenarios = {
    'get-api-key': byId(auth.key),
    'get-basic': byId(auth.basic),
    'get-jwt': byId(auth.jwt),
    'group-page': () =>
      as(auth.key, { method: 'GET', url: `/v1/groups/${group.id}/members?limit=50&sort=name` }),
    'post-contact': () =>
      as(auth.key, {
        method: 'POST',
        url: '/v1/contacts',
        payload: { first_name: 'P', last_name: `Q${phone}`, phone: `+6142${phone++}` },
      }),
  };
  // A PATCH takes a contact from the pool with its ETag and puts it back with the new one when
  // answered, so concurrent requests never race for one contact (as bench/lib/scenarios.mjs does).
  const pool = [...ids.slice(200)];
  let visits = 0;
  scenarios['patch-contact'] = () => {
    const id = pool.shift();
    return {
      ...as(auth.key, {
        method: 'PATCH',
        url: `/v1/contacts/${id}`,
        payload: { company: `Company ${visits++}`, custom: { visits } },
      }),
      headers: {
        authorization: auth.key,
        'if-match': etags.get(id),
        'content-type': 'application/merge-patch+json',
      },
      answered: (response) => {
        etags.set(id, response.headers.etag);
        pool.push(id);
      },
    };
  };
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`);
  return { app, next: scenarios[scenario] };
}

/** CPU microseconds per request over `count` requests, `CONCURRENCY` of them in flight at a time. */
async function measure(build, count) {
  const before = process.cpuUsage();
  let started = 0;
  const client = async () => {
    while (started++ < count) {
      const { answered, ...request } = build.next();
      const response = await build.app.inject(request);
      if (response.statusCode >= 300) throw new Error(`${response.statusCode} ${response.body}`);
      answered?.(response);
    }
  };
  await Promise.all(Array.from({ length: Number(process.env.CONCURRENCY ?? 1) }, client));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
const count = Number(perRound);
const a = await setup(distA);
await measure(a, count);

if (process.env.SQL_TIMES) {
  const Database = createRequire(join(resolve(distA), '..', 'package.json'))('better-sqlite3');
  const statement = Object.getPrototypeOf(new Database(':memory:').prepare('select 1'));
  const times = new Map();
  for (const method of ['all', 'get', 'run', 'iterate']) {
    const original = statement[method];
    statement[method] = function timed(...args) {
      const started = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const entry = times.get(this.source) ?? { calls: 0, ns: 0n };
        entry.calls++;
        entry.ns += process.hrtime.bigint() - started;
        times.set(this.source, entry);
      }
    };
  }
  await measure(a, count);
  for (const [sql, { calls, ns }] of [...times].sort((x, y) => Number(y[1].ns - x[1].ns)))
    console.log(`${(Number(ns) / count / 1000).toFixed(1).padStart(8)} us/request ${calls / count} x ${sql}`);
} else if (process.env.PROFILE) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  const cpu = await measure(a, count * Number(rounds));
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(process.env.PROFILE, JSON.stringify(profile));
  console.log(`${scenario}: ${cpu.toFixed(1)} us of CPU a request; profile in ${process.env.PROFILE}`);
} else {
  const b = await setup(distB);
  await measure(b, count);
  const results = { A: [], B: [] };
  for (let round = 0; round < Number(rounds); round++) {
    const order = round % 2 ? ['B', 'A'] : ['A', 'B'];
    for (const name of order) results[name].push(await measure(name === 'A' ? a : b, count));
  }
  const [medianA, medianB] = [median(results.A), median(results.B)];
  const list = (values) => values.map((v) => v.toFixed(0)).join(' ');
  console.log(
    `${scenario}: A ${medianA.toFixed(1)} us/request, B ${medianB.toFixed(1)} us/request, B/A ${(medianB / medianA).toFixed(2)}` +
      ` (rounds: A ${list(results.A)} | B ${list(results.B)})`,
  );
}
process.exit(0);
