import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { createHarness, type Harness } from './support/harness.js';

async function cli(args: string[], env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
  return { code, out, err };
}

const namesIn = (path: string): Set<string> => {
  const db = new SqliteDatabase(path, { readonly: true });
  try {
    return new Set(db.prepare('select display_name from contacts').pluck().all() as string[]);
  } finally {
    db.close();
  }
};

describe('roster backup and restore (SQLite)', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'roster-backup-'));
    h = await createHarness('sqlite', { sqlitePath: join(dir, 'live.db') });
  });
  afterAll(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies the database while it takes writes; the restored copy holds every write acknowledged before the backup', async () => {
    const acknowledged: { name: string; at: number }[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const name = `Backup person ${i}`;
        const res = await h.request({
          method: 'POST',
          url: '/v1/contacts',
          headers: { authorization: h.a.owner.apiKey },
          payload: { name, phone: `+6140${String(1_000_000 + i)}` },
        });
        if (res.statusCode === 201) acknowledged.push({ name, at: performance.now() });
      }
    })();
    while (acknowledged.length < 50) await new Promise((resolve) => setTimeout(resolve, 10));
    const started = performance.now();
    const backup = join(dir, 'backup.db');
    const taken = await cli(['backup', backup, '--json'], { DATABASE_URL: h.database.url });
    writing = false;
    await writer;
    expect(taken.code, taken.err.join('\n')).toBe(0);
    expect(JSON.parse(taken.out[0]!)).toMatchObject({ backup: backup, pages: expect.any(Number) });
    const before = acknowledged.filter((w) => w.at < started).map((w) => w.name);
    expect(before.length).toBeGreaterThanOrEqual(50);

    const restoredPath = join(dir, 'restored.db');
    const restored = await cli(['restore', backup], { DATABASE_URL: `sqlite:${restoredPath}` });
    expect(restored.code, restored.err.join('\n')).toBe(0);
    const names = namesIn(restoredPath);
    expect(before.filter((name) => !names.has(name))).toEqual([]);
    // Nothing that was not written: each name in the copy is one the writer sent.
    const sent = new Set(acknowledged.map((w) => w.name));
    expect([...names].filter((name) => name.startsWith('Backup person') && !sent.has(name))).toEqual([]);
  });

  it('refuses to overwrite a file, and sends PostgreSQL to pg_dump', async () => {
    const existing = join(dir, 'backup.db');
    const again = await cli(['backup', existing], { DATABASE_URL: h.database.url });
    expect(again).toMatchObject({ code: 1, err: [expect.stringContaining('exists')] });
    const pg = await cli(['backup', join(dir, 'pg.db')], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(pg).toMatchObject({ code: 1, err: [expect.stringContaining('pg_dump')] });
  });
});
