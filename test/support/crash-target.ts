import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase, type TestDialect } from './databases.js';
import { ownerApiKey, type RosterClient } from './roster-client.js';
import { ServerProcess } from './server-process.js';
import { checkSqliteFile } from './sqlite-integrity.js';

/** A server process on its own fresh database (a file for SQLite), to be killed and restarted on the same data. */
export interface CrashTarget {
  dialect: TestDialect;
  server: ServerProcess;
  /** The owner's API key, pointed at the current run. */
  client: RosterClient;
  /** SQLite's integrity_check and foreign_key_check after each kill ("ok"); empty on PostgreSQL. */
  integrity: string[];
  kills: number;
  /** kill -9, then check the file as the crash left it (SQLite). */
  crash(): Promise<void>;
  /** Starts the server again on the same data (with these settings added) and points the client at it. */
  restart(env?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export async function crashTarget(
  dialect: TestDialect,
  env: Record<string, string> = {},
): Promise<CrashTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'roster-crash-'));
  const sqlitePath = join(dir, 'roster.db');
  const database: TestDatabase = await freshDatabase(dialect, sqlitePath);
  const password = 'crash-test-password';
  const server = new ServerProcess({
    ...database.env,
    ROSTER_ADMIN_USERNAME: 'crash',
    ROSTER_ADMIN_PASSWORD: password,
    ROSTER_RATE_LIMIT: '0',
    ROSTER_IMPORT_DIR: join(dir, 'imports'),
    // A killed process's import is taken over once its lease runs out: long enough after a
    // restart for the check of what the kill left (crash-imports.ts) to see it standing still.
    ROSTER_JOB_LEASE: '8',
    ROSTER_JOB_POLL: '1',
    ...env,
  });
  await server.start();
  const target: CrashTarget = {
    dialect,
    server,
    client: await ownerApiKey(server.url, 'crash', password),
    integrity: [],
    kills: 0,
    async crash() {
      await server.kill();
      target.kills += 1;
      if (dialect === 'sqlite') target.integrity.push(checkSqliteFile(sqlitePath));
    },
    async restart(env = {}) {
      await server.start(env);
      target.client.url = server.url;
    },
    async close() {
      await server.stop();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return target;
}
