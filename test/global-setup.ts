import pg from 'pg';
import { ensureAppRole } from './support/databases.js';

/**
 * The PostgreSQL suite runs where TEST_DATABASE_URL is set (always in CI); elsewhere
 * it is skipped, and said so plainly, while everything else still runs on SQLite.
 */
export default async function setup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    if (process.env.CI) throw new Error('CI must run the PostgreSQL suite: set TEST_DATABASE_URL');
    process.stdout.write(
      '\n*** TEST_DATABASE_URL is not set: the PostgreSQL suite is SKIPPED; SQLite runs everything. ***\n\n',
    );
    return;
  }
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('select 1');
    await ensureAppRole(client);
  } catch (error) {
    throw new Error(`TEST_DATABASE_URL is set but PostgreSQL is not reachable: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}
