import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Config } from '../config.js';
import { openConfiguredStore } from './store.js';
import { buildApp, Metrics } from '../http/app.js';
import { createServices, type Services } from '../services/index.js';
import { JobWorker } from '../services/jobs/worker.js';
import type { Io } from './main.js';

/**
 * An empty database gets an organisation and an owner, so `npm start` is enough to try
 * Roster. The credentials are printed once (or taken from ROSTER_ADMIN_*), never logged.
 */
async function bootstrap(services: Services, config: Config, io: Io): Promise<void> {
  if (!(await services.accounts.isEmpty())) return;
  const org = await services.accounts.createOrganisation({ name: 'My organisation' });
  const username = config.adminUsername ?? 'admin';
  const password = config.adminPassword ?? randomBytes(12).toString('base64url');
  const user = await services.accounts.createUser(null, org.id, {
    username,
    password,
    role: 'owner',
    display_name: 'Administrator',
  });
  io.out(
    [
      'Created the first organisation and its owner:',
      `  organisation id: ${org.id}`,
      `  username:        ${user.username}`,
      config.adminPassword
        ? '  password:        (from ROSTER_ADMIN_PASSWORD)'
        : `  password:        ${password}`,
      'Keep the password: it is shown only this once.',
    ].join('\n'),
  );
}

/** `roster serve`: one server process, or (workers > 1) a primary that runs that many on one port. */
export async function serve(config: Config, io: Io): Promise<number> {
  if (config.workers > 1 && cluster.isPrimary) return primary(config, io);
  return server(config, io);
}

/**
 * node:cluster's primary: migrates and bootstraps once, then forks the workers, which share the
 * port; a worker that dies is replaced; SIGTERM is passed on to every worker and waited for.
 * With a metrics port, the primary serves it with every worker's metrics summed.
 */
async function primary(config: Config, io: Io): Promise<number> {
  const store = openConfiguredStore(config);
  try {
    await store.migrate();
    await bootstrap(await createServices(store, config), config, io);
  } finally {
    await store.close();
  }
  let stopping = false;
  const fork = () => cluster.fork();
  for (let i = 0; i < config.workers; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    io.err(`roster: worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });
  const metrics = config.metricsPort === undefined ? undefined : await clusterMetrics(config);
  const stop = async () => {
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    for (const worker of workers) worker?.process.kill('SIGTERM');
    await Promise.all(workers.map((worker) => worker && !worker.isDead() && once(worker, 'exit')));
    metrics?.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return new Promise<number>(() => {});
}

async function clusterMetrics(config: Config) {
  const { AggregatorRegistry } = await import('prom-client');
  const registry = new AggregatorRegistry();
  const { createServer } = await import('node:http');
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') return void response.writeHead(404).end();
    registry.clusterMetrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  server.listen(config.metricsPort, config.metricsHost);
  return server;
}

/** One server process: the API, the job worker, and a graceful stop on SIGTERM. */
async function server(config: Config, io: Io): Promise<number> {
  const metrics = new Metrics({
    token: config.metricsToken,
    port: config.metricsPort,
    host: config.metricsHost,
  });
  // Workers are scraped through the primary's metrics port.
  if (cluster.isWorker && config.metricsPort !== undefined) await metrics.joinCluster();
  const store = openConfiguredStore(config, metrics.enabled ? metrics.observeStatement : undefined);
  // A cluster's primary has migrated and bootstrapped already.
  if (cluster.isPrimary) await store.migrate();
  const services = await createServices(store, config);
  if (cluster.isPrimary) await bootstrap(services, config, io);
  let draining = false;
  metrics.watch(services);
  const app = await buildApp(services, {
    logLevel: config.logLevel,
    bodyLimitBytes: config.bodyLimitBytes,
    requireIfMatch: config.requireIfMatch,
    maxHeaderBytes: config.maxHeaderBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    seedListMax: config.seedListMax,
    draining: () => draining,
    metrics,
  });
  const rowSecurity = await store.rowSecurity();
  // A PostgreSQL role that bypasses row-level security loses the second line of tenancy: say so loudly.
  const level = store.dialect === 'postgres' && !rowSecurity.enforced ? 'warn' : 'info';
  app.log[level](
    {
      dialect: store.dialect,
      durability: await store.durability(),
      tenancy: rowSecurity.statement,
    },
    'database ready',
  );
  const stopSweeps = services.changes.startSweeps((error) =>
    app.log.error({ err: error }, 'change log sweep failed'),
  );
  services.deliveries?.start((error) => app.log.error({ err: error }, 'webhook delivery failed'));
  const worker = new JobWorker([services.imports, services.memberJobs], {
    pollMs: config.jobPollSeconds * 1000,
    onError: (error) => app.log.warn({ err: error }, 'job worker: looking for jobs to take over failed'),
  });
  const metricsServer = cluster.isPrimary ? await metrics.listen() : undefined;

  /**
   * SIGTERM: /readyz answers 503 first, so a load balancer stops sending here; then no new
   * connection is accepted, requests in flight finish (within the shutdown timeout), running
   * jobs stop after their batch and give their leases up for another process, webhook
   * deliveries in flight end (the rest wait in the database), and the database closes.
   */
  const close = async () => {
    draining = true;
    app.log.info({ drainMs: config.drainMs }, 'stopping: unready, draining');
    await new Promise((resolve) => setTimeout(resolve, config.drainMs));
    const cutOff = setTimeout(() => app.server.closeAllConnections(), config.shutdownTimeoutMs);
    await app.close();
    clearTimeout(cutOff);
    stopSweeps();
    await services.deliveries?.stop();
    await worker.stop();
    metricsServer?.close();
    await services.rateLimiter.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
  await app.listen({ host: config.host, port: config.port });
  worker.start();
  return new Promise<number>(() => {});
}
