import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { dialects, freshDatabase, type TestDatabase } from './support/databases.js';

async function roster(env: NodeJS.ProcessEnv, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  let data = '';
  const code = await main(
    args,
    { out: (l) => out.push(l), err: (l) => err.push(l), write: (c) => (data += c) },
    env,
  );
  return { code, out: out.join('\n'), err: err.join('\n'), data };
}

describe.each(dialects)('roster import and export on %s', (dialect) => {
  let dir: string;
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let org: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'roster-transfer-'));
    database = await freshDatabase(dialect, join(dir, 'roster.db'));
    env = { ...database.env, ROSTER_IMPORT_DIR: join(dir, 'imports') };
    org = JSON.parse(
      (await roster(env, 'org', 'create', '--name', 'Harbour', '--country', 'AU', '--json')).out,
    ).id;
    await roster(
      env,
      'user',
      'create',
      '--org',
      org,
      '--username',
      `owner-${dialect}-${process.pid}`,
      '--password',
      'a long password',
      '--role',
      'owner',
    );
  });
  afterAll(async () => {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports a file into a group with progress, then exports it again', async () => {
    const file = join(dir, 'people.csv');
    writeFileSync(
      file,
      'First Name,Last Name,Mobile\nAda,Lovelace,0412 345 678\nGrace,Hopper,0412 345 679\n,,not a phone\n',
    );
    const imported = await roster(env, 'import', file, '--org', org, '--group', 'Choir', '--json');
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.out)).toMatchObject({ status: 'completed', created: 2, failed: 1 });
    expect(imported.err).toMatch(/100% 3 rows, \d+ rows\/s/);

    const again = await roster(env, 'import', file, '--org', org, '--mode', 'skip', '--json');
    expect(JSON.parse(again.out)).toMatchObject({ created: 0, skipped: 2, failed: 1 });

    const exported = await roster(env, 'export', '--org', org, '--format', 'csv');
    expect(exported.code).toBe(0);
    const lines = exported.data.trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,name,first_name,middle_name,last_name,company,phone,email,channel,language,avatar_url,' +
        'title,department,nickname,notes,phones,emails,addresses,dates,urls,custom,groups',
    );
    expect(
      lines
        .slice(1)
        .map((l) => l.split(',')[1])
        .sort(),
    ).toEqual(['Ada Lovelace', 'Grace Hopper']);
  });

  it('lists duplicate candidates as JSON Lines', async () => {
    const file = join(dir, 'twins.csv');
    writeFileSync(
      file,
      'First Name,Last Name,Company\nCharles,Babbage,Difference Co\ncharles,BABBAGE,difference co.\n',
    );
    expect((await roster(env, 'import', file, '--org', org, '--mode', 'create')).code).toBe(0);
    const listed = await roster(env, 'duplicates', '--org', org, '--json');
    expect(listed.code).toBe(0);
    const lines = listed.data
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      {
        contact_ids: [expect.any(String), expect.any(String)],
        size: 2,
        score: 0.75,
        reasons: [{ kind: 'name_company', value: 'charles babbage|difference co' }],
      },
    ]);
    expect(JSON.parse(listed.err)).toEqual({ candidate_sets: 1 });
    expect((await roster(env, 'duplicates', '--org', org, '--min-score', '0.8')).data).toBe('');
    expect((await roster(env, 'duplicates', '--org', org, '--min-score', 'lots')).code).toBe(1);
  });

  it('refuses a missing file, an unknown format or organisation with a message', async () => {
    expect((await roster(env, 'import', join(dir, 'nope.csv'), '--org', org)).err).toContain('cannot read');
    const odd = join(dir, 'people.xlsx');
    writeFileSync(odd, 'x');
    expect((await roster(env, 'import', odd, '--org', org)).err).toContain('--format');
    const unknown = await roster(env, 'export', '--org', '00000000-0000-7000-8000-000000000000');
    expect(unknown.code).toBe(1);
  });
});
