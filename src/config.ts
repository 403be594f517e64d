import { availableParallelism } from 'node:os';

/** The server's defaults for its HTTP limits (docs/security.md, "Resource limits"). */
export const SERVER_LIMITS = {
  maxHeaderBytes: 16 * 1024,
  requestTimeoutMs: 30_000,
  // Longer than the idle timeout of common load balancers (60 s), so they never reuse a closed socket.
  keepAliveTimeoutMs: 72_000,
  seedListMax: 10_000,
};

/** Configuration from the environment; every variable is documented in the README. */
export interface Config {
  databaseUrl: string;
  /** PostgreSQL: the tables' owner, to migrate with, so the role of databaseUrl owns nothing. */
  databaseOwnerUrl?: string;
  host: string;
  port: number;
  logLevel: string;
  /** HS256 key for access tokens; generated and stored in the database when not given. */
  jwtSecret?: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  bodyLimitBytes: number;
  maxHeaderBytes: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Items in one answer of a seed list that has no pagination. */
  seedListMax: number;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** How long SQLite waits for another process's write lock before a request gets 409 busy. */
  sqliteBusyTimeoutMs: number;
  requireIfMatch: boolean;
  /** Requests a credential may make per window; 0 turns rate limiting off. */
  rateLimit: number;
  rateWindowSeconds: number;
  /** Shared rate-limit counters for several server processes; memory when unset. */
  redisUrl?: string;
  adminUsername?: string;
  adminPassword?: string;
  /** Where uploaded import files wait until their import ends. */
  importDirectory: string;
  importMaxBytes: number;
  importBatchSize: number;
  /** Days the change log keeps its entries (docs/changes.md). */
  changesRetentionDays: number;
  /** Seals webhook signing secrets at rest; on SQLite a key file beside the database stands in when unset. */
  secretKey?: string;
  /** Webhook endpoints may be loopback or private addresses (never cloud metadata ones). */
  webhookAllowPrivate: boolean;
  /** The waits before each webhook retry, in ms; the documented schedule when unset. */
  webhookRetryScheduleMs?: number[];
  webhookTimeoutMs: number;
  /** How long a background job's lease lasts unrenewed: how soon another process takes over a dead one's job. */
  jobLeaseSeconds: number;
  /** How often each process looks for jobs whose lease ran out. */
  jobPollSeconds: number;
  /** Server processes (node:cluster) sharing the port; `auto` in the environment is one per core. */
  workers: number;
  /** GET /metrics on the API's port, for `Authorization: Bearer <token>` only; off when unset. */
  metricsToken?: string;
  /** /metrics on a port of its own (on metricsHost), without a token; off when unset. */
  metricsPort?: number;
  metricsHost: string;
  /** On SIGTERM, how long /readyz answers 503 before the server stops accepting (a load balancer's time to notice). */
  drainMs: number;
  /** How long requests in flight may take to finish once the server stops accepting. */
  shutdownTimeoutMs: number;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer (got ${raw})`);
  return value;
}

/** A duration given in seconds, in milliseconds. */
const seconds = (env: NodeJS.ProcessEnv, name: string, fallbackMs: number) =>
  integer(env, name, fallbackMs / 1000) * 1000;

/** `auto` is one per core (os.availableParallelism). */
export function workerCount(raw: string | undefined, cores: number): number {
  if (raw === undefined || raw === '') return 1;
  if (raw === 'auto') return cores;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`the number of workers must be a positive integer or auto (got ${raw})`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const synchronous = (env.SQLITE_SYNCHRONOUS ?? 'NORMAL').toUpperCase();
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL')
    throw new Error('SQLITE_SYNCHRONOUS must be NORMAL or FULL');
  return {
    databaseUrl: env.DATABASE_URL || 'sqlite:./data/roster.db',
    databaseOwnerUrl: env.DATABASE_OWNER_URL || undefined,
    host: env.HOST || '127.0.0.1',
    port: integer(env, 'PORT', 8080),
    logLevel: env.LOG_LEVEL || 'info',
    jwtSecret: env.ROSTER_JWT_SECRET || undefined,
    accessTokenTtlSeconds: integer(env, 'ROSTER_ACCESS_TOKEN_TTL', 900),
    refreshTokenTtlSeconds: integer(env, 'ROSTER_REFRESH_TOKEN_TTL', 30 * 24 * 3600),
    bodyLimitBytes: integer(env, 'ROSTER_BODY_LIMIT', 1024 * 1024),
    maxHeaderBytes: integer(env, 'ROSTER_MAX_HEADER_BYTES', SERVER_LIMITS.maxHeaderBytes),
    requestTimeoutMs: seconds(env, 'ROSTER_REQUEST_TIMEOUT', SERVER_LIMITS.requestTimeoutMs),
    keepAliveTimeoutMs: seconds(env, 'ROSTER_KEEP_ALIVE_TIMEOUT', SERVER_LIMITS.keepAliveTimeoutMs),
    seedListMax: integer(env, 'ROSTER_SEED_LIST_MAX', SERVER_LIMITS.seedListMax),
    sqliteSynchronous: synchronous,
    sqliteBusyTimeoutMs: integer(env, 'SQLITE_BUSY_TIMEOUT', 5000),
    requireIfMatch: env.ROSTER_REQUIRE_IF_MATCH === 'true',
    rateLimit: env.ROSTER_RATE_LIMIT === '0' ? 0 : integer(env, 'ROSTER_RATE_LIMIT', 6000),
    rateWindowSeconds: integer(env, 'ROSTER_RATE_WINDOW', 60),
    redisUrl: env.REDIS_URL || undefined,
    importDirectory: env.ROSTER_IMPORT_DIR || './data/imports',
    importMaxBytes: integer(env, 'ROSTER_IMPORT_MAX_BYTES', 512 * 1024 * 1024),
    importBatchSize: integer(env, 'ROSTER_IMPORT_BATCH', 1000),
    changesRetentionDays: integer(env, 'ROSTER_CHANGES_RETENTION_DAYS', 30),
    secretKey: env.ROSTER_SECRET_KEY || undefined,
    webhookAllowPrivate: env.ROSTER_WEBHOOK_ALLOW_PRIVATE === 'true',
    webhookRetryScheduleMs: env.ROSTER_WEBHOOK_RETRY_MS
      ? env.ROSTER_WEBHOOK_RETRY_MS.split(',').map((ms) => integer({ ms }, 'ms', 0))
      : undefined,
    webhookTimeoutMs: integer(env, 'ROSTER_WEBHOOK_TIMEOUT_MS', 10_000),
    jobLeaseSeconds: integer(env, 'ROSTER_JOB_LEASE', 30),
    jobPollSeconds: integer(env, 'ROSTER_JOB_POLL', 5),
    workers: workerCount(env.ROSTER_WORKERS, availableParallelism()),
    metricsToken: env.ROSTER_METRICS_TOKEN || undefined,
    metricsPort: env.ROSTER_METRICS_PORT ? integer(env, 'ROSTER_METRICS_PORT', 0) : undefined,
    metricsHost: env.ROSTER_METRICS_HOST || '127.0.0.1',
    drainMs: env.ROSTER_DRAIN === '0' ? 0 : seconds(env, 'ROSTER_DRAIN', 0),
    shutdownTimeoutMs: seconds(env, 'ROSTER_SHUTDOWN_TIMEOUT', 25_000),
    adminUsername: env.ROSTER_ADMIN_USERNAME || undefined,
    adminPassword: env.ROSTER_ADMIN_PASSWORD || undefined,
  };
}
