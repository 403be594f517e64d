import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { loadConfig, workerCount, type Config } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { backupDatabase, restoreDatabase, type Store } from '../db/store.js';
import { openConfiguredStore } from './store.js';
import { createServices, type Services } from '../services/index.js';
import { printDuplicates } from './duplicates.js';
import { openApiDocument } from './openapi.js';
import { serve } from './serve.js';
import { exportContacts, importFile } from './transfer.js';

const USAGE = `Usage: roster <command> [options]

Commands:
  serve [--workers N|auto]                Start the HTTP server (migrates first); N processes share the port
  migrate                                 Apply database migrations
  org create --name N [--country CC] [--language L]
  user create --org ORG_ID --username U --password P --role R [--display-name D]
  key create --org ORG_ID --user USER_ID --name N
  import FILE --org ORG_ID [--group NAME ...] [--mode create|upsert|skip] [--country CC] [--dry-run] [--format csv|vcf|jsonl]
  export --org ORG_ID [--format csv|vcf|jsonl] [--group GROUP_ID] [--bom]   (to standard output)
  duplicates --org ORG_ID [--min-score S]  Candidate sets of duplicate contacts, as JSON Lines on standard output
  openapi                                 Print the OpenAPI document (no database or server needed)
  backup FILE                             SQLite: a consistent copy of the database, safe while serving
  restore FILE                            SQLite: the database becomes the backup (stop the servers first)

Every command takes --json and then prints exactly one JSON object.
Configuration comes from the environment (see the README): DATABASE_URL, HOST, PORT, ...`;

type Flags = Record<string, string | boolean | string[] | undefined>;

const text = { type: 'string' } as const;
const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  name: text,
  country: text,
  language: text,
  org: text,
  user: text,
  username: text,
  password: text,
  role: text,
  'display-name': text,
  group: { type: 'string', multiple: true },
  mode: text,
  format: text,
  'dry-run': { type: 'boolean' },
  bom: { type: 'boolean' },
  'min-score': text,
  workers: text,
} as const;

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Raw data to standard output (exports); process.stdout when not given. */
  write?: (chunk: string) => void;
}

const defaultIo: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

function required(flags: Flags, name: string): string {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') throw new DomainError('validation', `--${name} is required`);
  return value;
}

/** Runs one CLI command; returns the process exit code. */
export async function main(
  argv: string[],
  io: Io = defaultIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (error) {
    io.err(`roster: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { positionals, values: flags } = parsed;
  const command = positionals.join(' ');
  if (flags.help || command === '' || command === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (command === 'openapi') {
    (io.write ?? ((chunk: string) => process.stdout.write(chunk)))(await openApiDocument());
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig(env);
    if (typeof flags.workers === 'string')
      config.workers = workerCount(flags.workers, availableParallelism());
  } catch (error) {
    io.err(`roster: ${(error as Error).message}`);
    return 2;
  }
  if (command === 'serve') return serve(config, io);
  if (positionals[0] === 'backup' || positionals[0] === 'restore')
    return copyDatabase(positionals, flags, config, io);

  const store = openConfiguredStore(config);
  let services: Services | undefined;
  try {
    await store.migrate();
    services = await createServices(store, config);
    if (positionals[0] === 'import' || positionals[0] === 'export') {
      return await transfer(positionals, flags, services, io);
    }
    if (command === 'duplicates') {
      const count = await printDuplicates(services, flags, io.write ?? ((c) => process.stdout.write(c)));
      if (flags.json) io.err(JSON.stringify({ candidate_sets: count }));
      return 0;
    }
    const result = await run(command, flags, services, store);
    if (result === undefined) {
      io.err(`roster: unknown command "${command}"\n\n${USAGE}`);
      return 2;
    }
    io.out(flags.json ? JSON.stringify(result.json) : result.text);
    return 0;
  } catch (error) {
    return refused(error, flags, io);
  } finally {
    // With REDIS_URL the rate limiter holds a connection, which would keep the command from exiting.
    await services?.rateLimiter.close();
    await store.close();
  }
}

/** Backups run on the file itself, without migrating or opening the store: a server may be running on it. */
async function copyDatabase(positionals: string[], flags: Flags, config: Config, io: Io): Promise<number> {
  const [command, file] = positionals;
  try {
    if (!file || positionals.length > 2)
      throw new DomainError('validation', `name one file: roster ${command} FILE`);
    const { pages } = await (command === 'backup' ? backupDatabase : restoreDatabase)(
      config.databaseUrl,
      file,
    );
    const done =
      command === 'backup' ? `Backed the database up to ${file}` : `Restored the database from ${file}`;
    io.out(
      flags.json
        ? JSON.stringify({ [command === 'backup' ? 'backup' : 'restored']: file, pages })
        : `${done} (${pages} pages).`,
    );
    return 0;
  } catch (error) {
    return refused(error, flags, io);
  }
}

/** A command refused for a reason the user can fix: exit code 1, the reason as JSON or text. */
function refused(error: unknown, flags: Flags, io: Io): number {
  if (!(error instanceof DomainError)) throw error;
  if (flags.json) io.out(JSON.stringify({ error: { code: error.code, message: error.message } }));
  else io.err(`roster: ${error.message}`);
  return 1;
}

/** Imports and exports stream: their data goes to standard output whole, their progress to standard error. */
async function transfer(positionals: string[], flags: Flags, services: Services, io: Io): Promise<number> {
  const terminal = process.stderr.isTTY === true;
  const transferIo = {
    // Waits for a pipe's reader, so a long export holds one chunk, not the whole file.
    write:
      io.write ??
      ((chunk: string) =>
        process.stdout.write(chunk) ? undefined : once(process.stdout, 'drain').then(() => {})),
    progress: (line: string, final: boolean) =>
      terminal && !final ? process.stderr.write(`\r${line}`) : io.err(terminal ? `\r${line}` : line),
  };
  if (positionals[0] === 'export') {
    const count = await exportContacts(services, flags, transferIo);
    if (flags.json) io.err(JSON.stringify({ exported: count }));
    return 0;
  }
  const file = positionals[1];
  if (!file) throw new DomainError('validation', 'name the file to import: roster import FILE --org ORG_ID');
  const job = await importFile(services, file, flags, transferIo);
  if (flags.json) io.out(JSON.stringify(job));
  return job.status === 'completed' ? 0 : 1;
}

async function run(
  command: string,
  flags: Flags,
  services: Services,
  store: Store,
): Promise<{ json: object; text: string } | undefined> {
  switch (command) {
    case 'migrate':
      return {
        json: { migrated: true, dialect: store.dialect },
        text: `Migrated the ${store.dialect} database to the latest schema.`,
      };
    case 'org create': {
      const org = await services.accounts.createOrganisation({
        name: required(flags, 'name'),
        default_country: typeof flags.country === 'string' ? flags.country : undefined,
        default_language: typeof flags.language === 'string' ? flags.language : undefined,
      });
      return { json: org, text: `Created organisation ${org.name}: ${org.id}` };
    }
    case 'user create': {
      const user = await services.accounts.createUser(null, required(flags, 'org'), {
        username: required(flags, 'username'),
        password: required(flags, 'password'),
        role: required(flags, 'role') as never,
        display_name: typeof flags['display-name'] === 'string' ? flags['display-name'] : undefined,
      });
      return { json: user, text: `Created user ${user.username} (${user.role}): ${user.id}` };
    }
    case 'key create': {
      const key = await services.accounts.createApiKey(null, required(flags, 'org'), {
        name: required(flags, 'name'),
        user_id: required(flags, 'user'),
      });
      return {
        json: key,
        text: `Created API key ${key.name}: ${key.id}\nKey (shown once, keep it safe): ${key.key}`,
      };
    }
  }
  return undefined;
}
