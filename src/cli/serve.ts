import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { openConfiguredStore } from './store.js';
import { buildApp } from '../http/app.js';
import { createServices, type Services } from '../services/index.js';
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

export async function serve(config: Config, io: Io): Promise<number> {
  const store = openConfiguredStore(config);
  await store.migrate();
  const services = await createServices(store, config);
  const interrupted = await services.imports.markInterrupted();
  await bootstrap(services, config, io);
  const app = await buildApp(services, {
    logLevel: config.logLevel,
    bodyLimitBytes: config.bodyLimitBytes,
    requireIfMatch: config.requireIfMatch,
    maxHeaderBytes: config.maxHeaderBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    seedListMax: config.seedListMax,
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
  if (interrupted > 0)
    app.log.warn(
      { interrupted },
      'imports were running when the server stopped; resume them with POST /v1/imports/{id}/resume',
    );
  const stopSweeps = services.changes.startSweeps((error) =>
    app.log.error({ err: error }, 'change log sweep failed'),
  );
  services.deliveries?.start((error) => app.log.error({ err: error }, 'webhook delivery failed'));
  const close = async () => {
    stopSweeps();
    await services.deliveries?.stop();
    await app.close();
    await services.rateLimiter.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
  await app.listen({ host: config.host, port: config.port });
  return new Promise<number>(() => {});
}
