import { existsSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/domain/ids.js';
import { insertGroup, listGroupRows } from '../src/db/repositories/groups.js';
import { insertOrganisation } from '../src/db/repositories/instance.js';
import type { TenantScope } from '../src/db/scope.js';
import { openStore, type Store } from '../src/db/store.js';
import { operator } from '../src/services/context.js';
import { dialects, freshDatabase, type TestDatabase } from './support/databases.js';

/** A new organisation's id. */
async function addOrganisation(store: Store, name: string) {
  const now = Date.now();
  const row = await insertOrganisation(store.db, {
    id: uuidv7(),
    name,
    default_country: 'AU',
    default_language: 'en',
    allow_duplicate_phones: 0,
    created_at: now,
    updated_at: now,
    version: 1,
  });
  return row.id;
}

/** A new group of this name; `description` makes its row as big as the test needs. */
const addGroup = (scope: TenantScope, name: string, description: string | null = null) => {
  const now = Date.now();
  return insertGroup(scope, {
    id: uuidv7(),
    name,
    description,
    translations: '{}',
    is_active: 1,
    is_default: 0,
    thumbnail_url: null,
    external_ids: '{}',
    member_count: 0,
    created_by: null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    version: 1,
  });
};

/**
 * The store's transactions as the services rely on them, on each database. On SQLite those
 * begun together share one commit (group-commit.ts) and reads outside a transaction run on
 * a connection of their own (sqlite-driver.ts): neither may change what a transaction means.
 */
describe.each(dialects)('transactions on %s', (dialect) => {
  let database: TestDatabase;
  let store: Store;
  let organisationId: string;

  beforeAll(async () => {
    database = await freshDatabase(dialect);
    store = openStore({ url: database.url, ownerUrl: database.ownerUrl, poolSize: 4 });
    await store.migrate();
    organisationId = await addOrganisation(store, 'Transactions');
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  const names = async (prefix: string) =>
    (await listGroupRows(store.scope(organisationId), { q: prefix }, 'name', 1000)).items
      .map((g) => g.name)
      .sort();
  const inTransaction = <T>(work: (scope: TenantScope) => Promise<T>) =>
    store.transaction(operator(organisationId), work);

  it('commits each of many concurrent transactions, and each one answers with its own result', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        inTransaction(async (scope) => (await addGroup(scope, `many ${i}`)).name),
      ),
    );
    expect(results).toEqual(Array.from({ length: 30 }, (_, i) => `many ${i}`));
    expect(await names('many ')).toHaveLength(30);
  });

  it('undoes a transaction that fails after writing, and only that one, when others commit beside it', async () => {
    const failure = new Error('failed after writing');
    const outcomes = await Promise.allSettled([
      inTransaction((scope) => addGroup(scope, 'beside kept 1')),
      inTransaction(async (scope) => {
        await addGroup(scope, 'beside undone');
        throw failure;
      }),
      inTransaction((scope) => addGroup(scope, 'beside kept 2')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBe(failure);
    expect(await names('beside ')).toEqual(['beside kept 1', 'beside kept 2']);
  });

  it('keeps the others of a group when one fails before writing anything', async () => {
    const outcomes = await Promise.allSettled([
      inTransaction((scope) => addGroup(scope, 'early kept 1')),
      inTransaction(async () => {
        throw new Error('refused before writing');
      }),
      inTransaction((scope) => addGroup(scope, 'early kept 2')),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await names('early ')).toEqual(['early kept 1', 'early kept 2']);
  });

  it('lets a transaction read its own writes, and nobody else before it commits', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let seenInside: string[] = [];
    const open = inTransaction(async (scope) => {
      await addGroup(scope, 'uncommitted one');
      seenInside = (await listGroupRows(scope, { q: 'uncommitted' }, 'name', 10)).items.map((g) => g.name);
      await held;
    });
    await sleep(50);
    // A read from outside, while the transaction is open, neither waits for it nor sees it.
    expect(await names('uncommitted')).toEqual([]);
    expect(seenInside).toEqual(['uncommitted one']);
    release();
    await open;
    expect(await names('uncommitted')).toEqual(['uncommitted one']);
  });

  it('keeps a service that reaches the store again inside a transaction in it, whichever transactions end meanwhile', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const failure = new Error('undone after the other committed');
    const outer = inTransaction(async () => {
      await held;
      // Not the scope it was given: the store's own, as a second service would take it.
      await addGroup(store.scope(organisationId), 'rejoined undone');
      throw failure;
    });
    const other = inTransaction((scope) => addGroup(scope, 'rejoined other'));
    // PostgreSQL runs the two side by side, and the other one ends first; SQLite's one writer takes them in turn.
    if (dialect === 'postgres') await other;
    release();
    await expect(outer).rejects.toBe(failure);
    await other;
    expect(await names('rejoined ')).toEqual(['rejoined other']);
  });

  it.runIf(dialect === 'sqlite')(
    'checkpoints the WAL into the database file while serving (SQLite only: PostgreSQL checkpoints itself)',
    async () => {
      const file = new URL(database.url.replace(/^sqlite:/, 'file:')).pathname;
      const before = statSync(file).size;
      for (let batch = 0; batch < 20; batch++) {
        await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            inTransaction((scope) => addGroup(scope, `pages ${batch}-${i} ${'x'.repeat(2000)}`)),
          ),
        );
      }
      const deadline = Date.now() + 5000;
      while (statSync(file).size <= before + 1_000_000 && Date.now() < deadline) await sleep(50);
      expect(statSync(file).size).toBeGreaterThan(before + 1_000_000);
    },
  );
});

describe.runIf(dialects.includes('sqlite'))(
  'the WAL under writes that never pause (SQLite only: PostgreSQL keeps its own)',
  () => {
    it('is started afresh and cut back to its limit while the writes and reads go on', async () => {
      const database = await freshDatabase('sqlite');
      const limit = 1024 * 1024;
      const store = openStore({ url: database.url, sqliteWalLimitBytes: limit });
      try {
        await store.migrate();
        const id = await addOrganisation(store, 'WAL');
        const wal = `${new URL(database.url.replace(/^sqlite:/, 'file:')).pathname}-wal`;
        const sizes: number[] = [];
        // The file shrank while the writes went on: the WAL was started afresh and cut back (a
        // WAL file left to itself only grows, its frames overwritten once it starts afresh).
        let cutBack = false;
        const sampler = setInterval(() => {
          const size = existsSync(wal) ? statSync(wal).size : 0;
          const last = sizes.at(-1);
          if (last !== undefined && last > 2 * limit && size < last / 2) cutBack = true;
          sizes.push(size);
        }, 5);
        // At least 2.5 s of writes; on a busy machine they go on until a cut-back is seen, or 30 s.
        const start = Date.now();
        const going = () => Date.now() - start < 2500 || (!cutBack && Date.now() - start < 30_000);
        const readers = Array.from({ length: 4 }, async () => {
          while (going()) {
            await listGroupRows(store.scope(id), {}, 'name', 50);
            // SQLite answers at once: without a turn of the event loop the writers' commits would wait.
            await new Promise(setImmediate);
          }
        });
        const writers = Array.from({ length: 8 }, async (_, w) => {
          for (let i = 0; going(); i++)
            await store.transaction(operator(id), (scope) =>
              addGroup(scope, `wal ${w}-${i}`, 'y'.repeat(4000)),
            );
        });
        await Promise.all([...writers, ...readers]);
        clearInterval(sampler);
        expect(Math.max(...sizes)).toBeGreaterThan(2 * limit);
        expect(cutBack).toBe(true);
      } finally {
        await store.close();
        await database.drop();
      }
    }, 60_000);
  },
);
