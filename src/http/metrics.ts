import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Services } from '../services/index.js';

export interface MetricsOptions {
  /** GET /metrics on the API's port answers only `Authorization: Bearer <token>`; off when unset. */
  token?: string;
  /** A port of its own for /metrics, on `host`, with no token (bind it where only the scraper reaches). */
  port?: number;
  host?: string;
}

/** Seconds: most requests take a few milliseconds; imports and exports stream for longer. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
const STATEMENT_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5];

/**
 * The server's Prometheus metrics (prom-client): requests by route template, method and status
 * with their latency, database statements and pool, job queues, import rows, and the process
 * (memory, event-loop lag, GC). Made before the store opens, so the store can report statements.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Histogram<'method' | 'route' | 'status'>;
  private readonly statements: Histogram<'outcome'>;

  constructor(readonly options: MetricsOptions) {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    this.requests = new Histogram({
      name: 'roster_http_request_duration_seconds',
      help: 'HTTP requests by route template, method and status, and how long they took',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.statements = new Histogram({
      name: 'roster_db_statement_duration_seconds',
      help: 'Database statements and how long each took, by outcome (ok, error)',
      labelNames: ['outcome'],
      buckets: STATEMENT_BUCKETS,
      registers: [this.registry],
    });
  }

  /** Whether anything asks for metrics; when not, nothing is measured. */
  get enabled(): boolean {
    return this.options.token !== undefined || this.options.port !== undefined;
  }

  /** For the store: each statement's time (Kysely's log). */
  readonly observeStatement = (durationMs: number, failed: boolean): void => {
    this.statements.observe({ outcome: failed ? 'error' : 'ok' }, durationMs / 1000);
  };

  /** The gauges read from the services when scraped: pool, job queues, import rows. */
  watch(services: Services): void {
    const registers = [this.registry];
    new Gauge({
      name: 'roster_db_pool_connections',
      help: 'PostgreSQL pool connections by state (total, idle, waiting clients); none on SQLite',
      labelNames: ['state'],
      registers,
      collect() {
        const pool = services.store.poolStats();
        if (!pool) return;
        for (const [state, value] of Object.entries(pool)) this.set({ state }, value);
      },
    });
    const jobs = { imports: services.imports, member_jobs: services.memberJobs };
    const queues = async () =>
      Promise.all(Object.entries(jobs).map(async ([kind, source]) => ({ kind, ...(await source.queue()) })));
    new Gauge({
      name: 'roster_job_queue_depth',
      help: 'Background jobs waiting or running, in every process, by kind',
      labelNames: ['kind'],
      registers,
      async collect() {
        for (const queue of await queues()) this.set({ kind: queue.kind }, queue.count);
      },
    });
    new Gauge({
      name: 'roster_job_queue_oldest_age_seconds',
      help: 'Age of the oldest job waiting or running, by kind (0 when none)',
      labelNames: ['kind'],
      registers,
      async collect() {
        for (const queue of await queues()) this.set({ kind: queue.kind }, queue.ageMs / 1000);
      },
    });
    new Gauge({
      name: 'roster_jobs_running',
      help: 'Background jobs this process is running, by kind',
      labelNames: ['kind'],
      registers,
      collect() {
        for (const [kind, source] of Object.entries(jobs)) this.set({ kind }, source.runningCount);
      },
    });
    const deliveries = services.deliveries;
    if (deliveries) {
      new Counter({
        name: 'roster_webhook_attempts_total',
        help: 'Webhook delivery attempts of this process by outcome: delivered (2xx), retry (failed, tried again later), gave_up (failed, the last of the schedule)',
        labelNames: ['outcome'],
        registers,
        collect() {
          this.reset();
          for (const [outcome, count] of Object.entries(deliveries.attempts)) this.inc({ outcome }, count);
        },
      });
      const pending = () => deliveries.queue();
      new Gauge({
        name: 'roster_webhook_pending',
        help: 'Webhook deliveries waiting to be sent or retried, in every process',
        registers,
        async collect() {
          this.set((await pending()).count);
        },
      });
      new Gauge({
        name: 'roster_webhook_oldest_pending_age_seconds',
        help: 'Age of the oldest webhook delivery waiting (0 when none): how far receivers lag behind',
        registers,
        async collect() {
          this.set((await pending()).ageMs / 1000);
        },
      });
    }
    new Counter({
      name: 'roster_import_rows_total',
      help: 'Rows of committed import batches in this process (rate() gives rows per second)',
      registers,
      collect() {
        this.reset();
        this.inc(services.imports.rowsCommitted);
      },
    });
  }

  /** Times every request by its route template (not its URL: ids would make a series each). */
  register(app: FastifyInstance): void {
    if (!this.enabled) return;
    app.addHook('onResponse', async (request, reply) => {
      this.requests.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unknown',
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    });
    const token = this.options.token;
    if (token === undefined) return;
    const expected = createHash('sha256').update(`Bearer ${token}`).digest();
    app.get('/metrics', { schema: { hide: true } }, async (request: FastifyRequest, reply: FastifyReply) => {
      const given = createHash('sha256')
        .update(request.headers.authorization ?? '')
        .digest();
      if (!timingSafeEqual(given, expected))
        return reply.code(401).header('www-authenticate', 'Bearer').send({ status: 'unauthorised' });
      return reply.type(this.registry.contentType).send(await this.registry.metrics());
    });
  }

  /** A cluster worker: the primary's AggregatorRegistry asks it for this registry. */
  async joinCluster(): Promise<void> {
    const { AggregatorRegistry } = await import('prom-client');
    AggregatorRegistry.setRegistries([this.registry]);
  }

  /** The metrics port, when configured: /metrics only, nothing else. */
  async listen(): Promise<Server | undefined> {
    if (this.options.port === undefined) return undefined;
    const server = createServer((request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve) =>
      server.listen(this.options.port, this.options.host ?? '127.0.0.1', resolve),
    );
    return server;
  }
}
