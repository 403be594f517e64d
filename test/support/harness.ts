import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { openStore, type Store } from '../../src/db/store.js';
import type { Organisation, User } from '../../src/domain/records.js';
import type { Role } from '../../src/domain/roles.js';
import { buildApp, type AppOptions } from '../../src/http/app.js';
import { createServices, type Services } from '../../src/services/index.js';
import { freshDatabase, type TestDialect, type TestDatabase } from './databases.js';

/** One user's ways in: Basic, an API key and a JWT, as ready-made Authorization headers. */
export interface Login {
  user: User;
  username: string;
  password: string;
  basic: string;
  apiKey: string;
  jwt: string;
}

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** A record as /v1 answers it: its id and version, and whatever else the test reads. */
export type Answered = { id: string; version: number; [field: string]: unknown };

export interface Tenant {
  org: Organisation;
  owner: Login;
  addUser(role: Role, name?: string): Promise<Login>;
  /** A request to /v1 (or any surface) as the owner, by API key unless `headers` name another credential. */
  send(
    method: Method,
    url: string,
    payload?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  /** POST /v1/contacts as the owner; fails the test unless it is created. */
  contact(fields: Record<string, unknown>): Promise<Answered>;
  /** POST /v1/groups, then the given contacts as its members. */
  group(fields: Record<string, unknown>, memberIds?: string[]): Promise<Answered>;
  /** POST /v1/imports (CSV unless `contentType` says otherwise) and waits for the job to end: the job as it ended. */
  imported(body: string, options?: { query?: string; contentType?: string }): Promise<Answered>;
}

/** A running app on a fresh database, with two organisations to test isolation. */
export interface Harness {
  dialect: TestDialect;
  database: TestDatabase;
  app: FastifyInstance;
  services: Services;
  store: Store;
  /** Where uploads wait for their import. */
  importDirectory: string;
  a: Tenant;
  b: Tenant;
  /** Another organisation, empty, with its owner (names must be new to the harness). */
  tenant(name: string, country: string): Promise<Tenant>;
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

let counter = 0;

async function login(
  app: FastifyInstance,
  services: Services,
  org: Organisation,
  role: Role,
  name: string,
): Promise<Login> {
  const username = `${name}-${process.pid}-${++counter}`;
  const password = `pw-${username}-secret`;
  const user = await services.accounts.createUser(null, org.id, {
    username,
    password,
    role,
    display_name: name,
  });
  const key = await services.accounts.createApiKey(null, org.id, { name: `${name} key`, user_id: user.id });
  const token = await app.inject({ method: 'POST', url: '/v1/auth/token', payload: { username, password } });
  return {
    user,
    username,
    password,
    basic: 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64'),
    apiKey: `Bearer ${key.key}`,
    jwt: `Bearer ${token.json().access_token}`,
  };
}

async function tenant(
  app: FastifyInstance,
  services: Services,
  name: string,
  country: string,
): Promise<Tenant> {
  const org = await services.accounts.createOrganisation({ name, default_country: country });
  const owner = await login(app, services, org, 'owner', `${name}-owner`);
  const send: Tenant['send'] = (method, url, payload, headers = {}) =>
    app.inject({
      method,
      url,
      headers: { authorization: owner.apiKey, ...headers },
      ...(payload !== undefined && { payload: payload as object | string }),
    });
  const created = async (url: string, payload: unknown, headers?: Record<string, string>) => {
    const res = await send('POST', url, payload, headers);
    if (res.statusCode >= 300) throw new Error(`POST ${url}: ${res.statusCode} ${res.body}`);
    return res.json() as Answered;
  };
  return {
    org,
    owner,
    addUser: (role, userName = role) => login(app, services, org, role, `${name}-${userName}`),
    send,
    contact: (fields) => created('/v1/contacts', fields),
    group: async (fields, memberIds = []) => {
      const group = await created('/v1/groups', fields);
      if (memberIds.length > 0) await created(`/v1/groups/${group.id}/members`, { contact_ids: memberIds });
      return group;
    },
    imported: async (body, { query = '', contentType = 'text/csv' } = {}) => {
      const job = await created(`/v1/imports${query && `?${query}`}`, body, { 'content-type': contentType });
      const actor = {
        ...(await services.auth.verifyBearer(owner.apiKey.slice('Bearer '.length))),
        surface: 'v1' as const,
      };
      await services.imports.settled(actor, job.id);
      return (await send('GET', `/v1/imports/${job.id}`)).json() as Answered;
    },
  };
}

export interface HarnessOptions extends AppOptions {
  sqlitePath?: string;
  /** Requests per credential per window (0, the default in tests, turns limiting off). */
  rateLimit?: number;
  redisUrl?: string;
  /** Rows per import batch (small in tests, to exercise batching). */
  importBatchSize?: number;
  importMaxBytes?: number;
  /** The script an import's file is read on (a thread of its own); the main thread by default, as src/ has none. */
  importReadingThread?: URL;
  /** The JWT key (ROSTER_JWT_SECRET); generated and stored in the database when not given. */
  jwtSecret?: string;
  sqliteBusyTimeoutMs?: number;
  /** PostgreSQL settings for the test database (ALTER DATABASE ... SET), in force on every connection. */
  postgresSettings?: Record<string, string>;
  /** Webhook targets may be loopback addresses (ROSTER_WEBHOOK_ALLOW_PRIVATE): true unless said. */
  webhookAllowPrivate?: boolean;
  /** Runs the webhook delivery worker, with this retry schedule and timeout (ms). */
  deliveries?: { retryScheduleMs: number[]; timeoutMs: number };
}

async function configure(url: string, settings: Record<string, string>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const [name, value] of Object.entries(settings))
      await client.query(`alter database ${new URL(url).pathname.slice(1)} set ${name} = '${value}'`);
  } finally {
    await client.end();
  }
}

export async function createHarness(dialect: TestDialect, options: HarnessOptions = {}): Promise<Harness> {
  const database: TestDatabase = await freshDatabase(dialect, options.sqlitePath);
  if (options.postgresSettings && dialect === 'postgres')
    await configure(database.ownerUrl ?? database.url, options.postgresSettings);
  const store = openStore({
    url: database.url,
    ownerUrl: database.ownerUrl,
    poolSize: 4,
    sqliteBusyTimeoutMs: options.sqliteBusyTimeoutMs,
  });
  await store.migrate();
  const importDirectory = mkdtempSync(join(tmpdir(), 'roster-imports-'));
  const services = await createServices(store, {
    jwtSecret: options.jwtSecret,
    accessTokenTtlSeconds: 900,
    refreshTokenTtlSeconds: 3600,
    rateLimit: options.rateLimit,
    redisUrl: options.redisUrl,
    importDirectory,
    importBatchSize: options.importBatchSize,
    importMaxBytes: options.importMaxBytes,
    importReadingThread: options.importReadingThread ?? null,
    secretKey: 'test secret key',
    webhookAllowPrivate: options.webhookAllowPrivate ?? true,
    webhookRetryScheduleMs: options.deliveries?.retryScheduleMs,
    webhookTimeoutMs: options.deliveries?.timeoutMs ?? 10_000,
  });
  if (options.deliveries) services.deliveries?.start((error) => console.error('delivery worker:', error));
  const app = await buildApp(services, { logLevel: 'silent', ...options });
  const a = await tenant(app, services, 'Acme', 'AU');
  const b = await tenant(app, services, 'Globex', 'US');
  return {
    dialect,
    database,
    app,
    services,
    store,
    importDirectory,
    a,
    b,
    tenant: (name, country) => tenant(app, services, name, country),
    request: (opts) => app.inject(opts),
    close: async () => {
      await services.deliveries?.stop();
      await app.close();
      await services.rateLimiter.close();
      await store.close();
      await database.drop();
    },
  };
}
