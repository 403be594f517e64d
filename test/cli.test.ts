import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { openStore } from '../src/db/store.js';
import { buildApp } from '../src/http/app.js';
import { createServices } from '../src/services/index.js';
import { dialects, freshDatabase, type TestDatabase } from './support/databases.js';
import { createHarness } from './support/harness.js';

/** Runs the CLI entry as `roster ARGS` would, capturing what it prints. */
async function roster(env: NodeJS.ProcessEnv, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe.each(dialects)('the roster CLI on %s', (dialect) => {
  let dir: string;
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'roster-cli-'));
    database = await freshDatabase(dialect, join(dir, 'roster.db'));
    env = { ...database.env };
  });
  afterAll(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrates, then creates an organisation, a user and an API key that authenticates', async () => {
    expect((await roster(env, 'migrate', '--json')).out).toBe(JSON.stringify({ migrated: true, dialect }));

    const org = await roster(env, 'org', 'create', '--name', 'Harbour', '--country', 'au', '--json');
    expect(org.code).toBe(0);
    const orgJson = JSON.parse(org.out);
    expect(orgJson).toMatchObject({ name: 'Harbour', default_country: 'AU' });

    const user = await roster(
      env,
      'user',
      'create',
      '--org',
      orgJson.id,
      '--username',
      `sam-${dialect}`,
      '--password',
      'a long password',
      '--role',
      'admin',
      '--json',
    );
    const userJson = JSON.parse(user.out);
    expect(userJson).toMatchObject({
      username: `sam-${dialect}`,
      role: 'admin',
      organisation_id: orgJson.id,
    });

    const key = await roster(
      env,
      'key',
      'create',
      '--org',
      orgJson.id,
      '--user',
      userJson.id,
      '--name',
      'crm',
      '--json',
    );
    const keyJson = JSON.parse(key.out);
    expect(keyJson.key).toMatch(/^rst_/);
    expect(key.out.split('\n')).toHaveLength(1);

    const store = openStore({ url: database.url, ownerUrl: database.ownerUrl });
    try {
      const app = await buildApp(
        await createServices(store, { accessTokenTtlSeconds: 60, refreshTokenTtlSeconds: 60 }),
        { logLevel: 'silent' },
      );
      const res = await app.inject({
        method: 'GET',
        url: '/v1/organisation',
        headers: { authorization: `Bearer ${keyJson.key}` },
      });
      expect(res.json()).toMatchObject({ id: orgJson.id, name: 'Harbour' });
      await app.close();
    } finally {
      await store.close();
    }
  });

  it('prints the key in plain text once, and errors as one JSON object with --json', async () => {
    const org = JSON.parse((await roster(env, 'org', 'create', '--name', 'Plain', '--json')).out);
    const user = JSON.parse(
      (
        await roster(
          env,
          'user',
          'create',
          '--org',
          org.id,
          '--username',
          `pat-${dialect}`,
          '--password',
          'a long password',
          '--role',
          'viewer',
          '--json',
        )
      ).out,
    );
    const plain = await roster(env, 'key', 'create', '--org', org.id, '--user', user.id, '--name', 'ci');
    expect(plain.out).toMatch(/Key \(shown once, keep it safe\): rst_/);

    const missing = await roster(env, 'org', 'create', '--json');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.out)).toEqual({ error: { code: 'validation', message: '--name is required' } });
    const taken = await roster(
      env,
      'user',
      'create',
      '--org',
      org.id,
      '--username',
      `pat-${dialect}`,
      '--password',
      'a long password',
      '--role',
      'viewer',
    );
    expect(taken.code).toBe(1);
    expect(taken.err).toContain('taken');
    const unknownOrg = await roster(
      env,
      'user',
      'create',
      '--org',
      '00000000-0000-7000-8000-000000000000',
      '--username',
      'x',
      '--password',
      'a long password',
      '--role',
      'viewer',
      '--json',
    );
    expect(JSON.parse(unknownOrg.out).error.code).toBe('not_found');
  });

  it('explains itself and refuses unknown commands and bad configuration', async () => {
    expect((await roster(env, '--help')).out).toContain('Usage: roster');
    const unknown = await roster(env, 'frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown command');
    const badConfig = await roster({ ...env, PORT: 'eighty' }, 'migrate');
    expect(badConfig.code).toBe(2);
    expect(badConfig.err).toContain('PORT');
  });
});

describe('roster openapi', () => {
  it('prints the document the server serves at /openapi.json, without a database', async () => {
    let printed = '';
    const code = await main(['openapi'], { out: () => {}, err: () => {}, write: (c) => (printed += c) }, {});
    expect(code).toBe(0);
    const h = await createHarness('sqlite');
    try {
      const served = await h.request({ method: 'GET', url: '/openapi.json' });
      expect(JSON.parse(printed)).toEqual(served.json());
      expect(served.json().openapi).toBe('3.1.0');
    } finally {
      await h.close();
    }
  });
});

describe('the installed binary', () => {
  beforeAll(() => {
    if (!existsSync('dist/cli/main.js'))
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'ignore' });
  }, 120_000);

  it('runs as `roster --help`', () => {
    const out = execFileSync('node', ['bin/roster.js', '--help'], { encoding: 'utf8' });
    expect(out).toContain('roster <command>');
  });
});
