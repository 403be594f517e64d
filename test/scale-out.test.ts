import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { session } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';
import {
  allOperations,
  keyOf,
  missingIds,
  PUBLIC,
  recordsOf,
  requestFor,
  wrong401,
} from './support/operations.js';
import { remote } from './support/remote.js';
import { ownerApiKey } from './support/roster-client.js';
import { ServerProcess } from './support/server-process.js';

/**
 * Three `roster serve` processes on one PostgreSQL database and one Redis behave as one server.
 * The harness makes the database, its tenants and records (in-process, as every suite does); then
 * every request goes to the real processes, round-robin.
 */
const enabled = Boolean(process.env.TEST_DATABASE_URL && process.env.REDIS_URL);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.runIf(enabled)('three server processes over one PostgreSQL and Redis', () => {
  let h: Harness;
  let dir: string;
  let servers: ServerProcess[];
  let turn = 0;
  /** The next process in turn, or the one given. */
  const send = (options: InjectOptions, server?: number) =>
    remote(servers[server ?? turn++ % servers.length]!.url, options);
  const start = async (env: Record<string, string> = {}) => {
    const group = Array.from(
      { length: 3 },
      () =>
        new ServerProcess({
          ...h.database.env,
          REDIS_URL: process.env.REDIS_URL!,
          ROSTER_IMPORT_DIR: h.importDirectory,
          ROSTER_RATE_LIMIT: '0',
          ROSTER_JOB_LEASE: '3',
          ROSTER_JOB_POLL: '1',
          ROSTER_DRAIN: '1',
          // The matrices' records include a webhook endpoint on a loopback address.
          ROSTER_SECRET_KEY: 'scale-out test key',
          ROSTER_WEBHOOK_ALLOW_PRIVATE: 'true',
          LOG_LEVEL: 'warn',
          ...env,
        }),
    );
    await Promise.all(group.map((server) => server.start()));
    return group;
  };

  beforeAll(async () => {
    h = await createHarness('postgres');
    dir = mkdtempSync(join(tmpdir(), 'roster-scale-'));
    servers = await start();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every operation without a credential with its surface’s 401, whichever process takes it', async () => {
    const operations = (await allOperations(h.app)).filter((op) => !(keyOf(op) in PUBLIC));
    const ids = await recordsOf({ ...h, request: (options) => send(options) }, h.a, 'Alpha');
    const failures: string[] = [];
    // A HEAD's 401 has no body to show its style; its GET is asked.
    for (const op of operations.filter((op) => op.method !== 'HEAD')) {
      const wrong = wrong401(op.surface, await send(requestFor(op, ids, undefined)));
      if (wrong) failures.push(`${keyOf(op)}: ${wrong}`);
    }
    expect(operations.length).toBeGreaterThan(50);
    expect(failures).toEqual([]);
  }, 120_000);

  it('gives organisation B nothing of A’s records, whichever process takes it: the answer for a missing id', async () => {
    const operations = (await allOperations(h.app)).filter((op) => !(keyOf(op) in PUBLIC));
    const a = await recordsOf({ ...h, request: (options) => send(options) }, h.a, 'Alpha2');
    const missing = missingIds();
    const failures: string[] = [];
    for (const op of operations.filter((op) => op.path.includes('{'))) {
      const foreign = await send(requestFor(op, a, h.b.owner.apiKey));
      const absent = await send(requestFor(op, missing, h.b.owner.apiKey));
      if (foreign.statusCode < 300 || foreign.statusCode !== absent.statusCode)
        failures.push(`${keyOf(op)}: ${foreign.statusCode} (a missing id: ${absent.statusCode})`);
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('keeps one record for an Idempotency-Key raced on two processes', async () => {
    const headers = { authorization: h.a.owner.apiKey, 'idempotency-key': `race-${Date.now()}` };
    const payload = { name: 'Raced Once', phone: '+61400999111' };
    const answers = await Promise.all(
      [0, 1].map((server) => send({ method: 'POST', url: '/v1/contacts', headers, payload }, server)),
    );
    const statuses = answers.map((res) => res.statusCode).sort();
    // Both the same stored answer, or one while the other was still running (409 in progress).
    expect([
      [201, 201],
      [201, 409],
    ]).toContainEqual(statuses);
    const created = answers.filter((res) => res.statusCode === 201).map((res) => res.json().id);
    expect(new Set(created).size).toBe(1);
    const found = await send({
      method: 'GET',
      url: '/v1/contacts?q=Raced',
      headers: { authorization: h.a.owner.apiKey },
    });
    expect(found.json().items).toHaveLength(1);
  });

  it('refuses a key revoked on one process on the other two at their next request', async () => {
    const owner = { authorization: h.a.owner.apiKey };
    const key = (
      await send({ method: 'POST', url: '/v1/api-keys', headers: owner, payload: { name: 'short-lived' } }, 0)
    ).json();
    const withKey = { authorization: `Bearer ${key.key}` };
    for (const server of [0, 1, 2])
      expect(
        (await send({ method: 'GET', url: '/v1/contacts?limit=1', headers: withKey }, server)).statusCode,
      ).toBe(200);
    expect(
      (await send({ method: 'DELETE', url: `/v1/api-keys/${key.id}`, headers: owner }, 0)).statusCode,
    ).toBeLessThan(300);
    for (const server of [1, 2])
      expect(
        (await send({ method: 'GET', url: '/v1/contacts?limit=1', headers: withKey }, server)).statusCode,
      ).toBe(401);
  });

  it(
    'finishes an import on another process when the one running it is killed (kill -9), each row once',
    async () => {
      // SCALE_OUT_ROWS=200000 for the full size, by hand (docs/scaling.md gives its figures).
      const rows = Number(process.env.SCALE_OUT_ROWS ?? 20_000);
      const file = join(dir, 'contacts.csv');
      execFileSync(process.execPath, ['bench/generate-contacts.mjs', String(rows), file]);
      const auth = { authorization: h.a.owner.apiKey };
      const started = await send(
        {
          method: 'POST',
          url: '/v1/imports?group_name=Scaled&country=AU',
          headers: { ...auth, 'content-type': 'text/csv' },
          payload: readFileSync(file),
        },
        0,
      );
      expect(started.statusCode, started.body).toBe(202);
      const job = () => send({ method: 'GET', url: `/v1/imports/${started.json().id}`, headers: auth }, 1);
      let seen = (await job()).json();
      while (seen.status !== 'running' || seen.rows_read < 3000) {
        expect(['queued', 'running']).toContain(seen.status);
        await sleep(50);
        seen = (await job()).json();
      }
      await servers[0]!.kill();
      console.log(`scale-out import: killed at row ${seen.rows_read} of ${rows}`);
      const killedAt = { rows: seen.rows_read, time: Date.now() };
      // Served by the two left, until the killed one is back (its lease must run out first).
      servers = [servers[1]!, servers[2]!, servers[0]!];
      const deadline = Date.now() + 90_000 + rows * 2;
      while (!['completed', 'failed', 'cancelled'].includes(seen.status) && Date.now() < deadline) {
        await sleep(250);
        seen = (await job()).json();
      }
      console.log(
        `scale-out import: completed ${Math.round((Date.now() - killedAt.time) / 1000)} s after the kill, rows_read ${seen.rows_read}, created ${seen.created}`,
      );
      expect(seen.status, JSON.stringify(seen)).toBe('completed');
      expect(killedAt.rows).toBeLessThan(rows);
      expect(seen.rows_read).toBe(rows);
      expect(seen.created + seen.updated + seen.unchanged + seen.skipped + seen.failed).toBe(rows);
      const twice = await session(h.database.ownerUrl!, h.a.org.id, async (client) => {
        const emails = await client.query(
          `select count(email)::int - count(distinct lower(email))::int as n from contacts
         where organisation_id = $1 and email like '%@example.com' and deleted_at is null`,
          [h.a.org.id],
        );
        return (emails.rows[0] as { n: number }).n;
      });
      // Every contact the import created is there once: none twice (a batch imported again would make twins).
      expect(twice).toBe(0);
      // To a process that is up: the killed one (servers[2]) is started again only below.
      const group = await send({ method: 'GET', url: '/v1/groups?q=Scaled', headers: auth }, 0);
      expect(group.json().items[0].member_count).toBe(seen.created);
      await servers[2]!.start();
    },
    180_000 + Number(process.env.SCALE_OUT_ROWS ?? 0) * 3,
  );

  it('loses no request and no acknowledged write in a rolling restart of the three under load', async () => {
    const auth = { authorization: h.a.owner.apiKey };
    const acknowledged: string[] = [];
    const failed: string[] = [];
    let running = true;
    let n = 0;
    // A load balancer: round-robin over processes that are ready; a refused connection goes to the next.
    const ready = new Set(servers);
    const watch = setInterval(() => {
      for (const server of servers)
        fetch(`${server.url}/readyz`).then(
          (res) => (res.ok ? ready.add(server) : ready.delete(server)),
          () => ready.delete(server),
        );
    }, 100);
    const client = async () => {
      while (running) {
        const i = n++;
        const payload = { name: `Rolling ${i}`, phone: `+6141${String(1_000_000 + i)}` };
        for (let attempt = 0; ; attempt++) {
          const pool = [...ready];
          const server = pool[i % Math.max(1, pool.length)];
          if (!server) {
            await sleep(20);
            continue;
          }
          try {
            const res = await remote(server.url, {
              method: 'POST',
              url: '/v1/contacts',
              headers: auth,
              payload,
            });
            if (res.statusCode === 201) acknowledged.push(res.json().id);
            else failed.push(`${res.statusCode} ${res.body.slice(0, 100)}`);
            break;
          } catch (error) {
            const code = (error as { cause?: { code?: string } }).cause?.code;
            if (code !== 'ECONNREFUSED' || attempt > 20) {
              failed.push(String(code ?? error));
              break;
            }
            ready.delete(server);
          }
        }
      }
    };
    const clients = Array.from({ length: 4 }, client);
    await sleep(500);
    for (const server of servers) {
      await server.stop();
      await server.start();
      await sleep(300);
    }
    running = false;
    await Promise.all(clients);
    clearInterval(watch);
    expect(failed).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(20);
    const missing: string[] = [];
    for (const id of acknowledged)
      if ((await send({ method: 'GET', url: `/v1/contacts/${id}`, headers: auth })).statusCode !== 200)
        missing.push(id);
    expect(missing).toEqual([]);
  }, 120_000);
});

describe.runIf(enabled)('a rate limit over three processes', () => {
  let h: Harness;
  let servers: ServerProcess[];
  beforeAll(async () => {
    h = await createHarness('postgres');
    servers = Array.from(
      { length: 3 },
      () =>
        new ServerProcess({
          ...h.database.env,
          REDIS_URL: process.env.REDIS_URL!,
          ROSTER_RATE_LIMIT: '30',
          ROSTER_RATE_WINDOW: '300',
          LOG_LEVEL: 'warn',
        }),
    );
    await Promise.all(servers.map((server) => server.start()));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await h.close();
  });

  it('is the configured total across all three, not three times it', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++)
      statuses.push(
        (
          await remote(servers[i % 3]!.url, {
            method: 'GET',
            url: '/v1/contacts?limit=1',
            headers: { authorization: h.a.owner.apiKey },
          })
        ).statusCode,
      );
    expect(statuses.filter((s) => s === 200)).toHaveLength(30);
    expect(statuses.slice(30)).toEqual(Array(15).fill(429));
  }, 60_000);
});

describe('roster serve --workers 2 on one SQLite file', () => {
  let dir: string;
  let server: ServerProcess;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'roster-workers-'));
    server = new ServerProcess({
      DATABASE_URL: `sqlite:${join(dir, 'roster.db')}`,
      ROSTER_WORKERS: '2',
      ROSTER_ADMIN_USERNAME: 'workers',
      ROSTER_ADMIN_PASSWORD: 'workers-test-password',
      ROSTER_RATE_LIMIT: '0',
      LOG_LEVEL: 'warn',
    });
    await server.start();
  }, 60_000);
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves on one port from two processes, where writes sent together all succeed: they wait for the file’s lock', async () => {
    const client = await ownerApiKey(server.url, 'workers', 'workers-test-password');
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        client.request('POST', '/v1/contacts', {
          body: { name: `Worker ${i}`, phone: `+6142${String(1_000_000 + i)}` },
        }),
      ),
    );
    expect(
      answers.filter((res) => res.status !== 201).map((res) => `${res.status} ${JSON.stringify(res.body)}`),
    ).toEqual([]);
    const listed = await client.request('GET', '/v1/contacts?q=Worker&limit=500');
    expect(listed.body.items).toHaveLength(200);
  }, 60_000);
});
