import { describe, expect, it } from 'vitest';
import { connect } from '../src/db/connection.js';
import { migrator } from '../src/db/migrate.js';
import { openStore } from '../src/db/store.js';
import { dialects, freshDatabase, raw } from './support/databases.js';

/** Migrations that move data, run on a database that holds some from before them. */
describe.each(dialects)('data migrations on %s', (dialect) => {
  it('0015 moves seed 001’s survey state out of the core contact, in contacts and in the undo images of imports and merges', async () => {
    const database = await freshDatabase(dialect);
    const ownerUrl = database.ownerUrl ?? database.url;
    const owner = connect({ url: ownerUrl, poolSize: 1 }).db;
    const survey = JSON.stringify({ survey_id: 'welcome', survey_sort_id: 2 });
    const extensions = JSON.stringify({ 'seed-001': { transaction: JSON.parse(survey) } });
    try {
      expect((await migrator(owner, dialect).migrateTo('0012_address_books')).error).toBeUndefined();
      const run = (text: string, values: unknown[]) => raw(dialect, ownerUrl, 'org-1', text, values);
      for (const [key, state] of [
        [1, survey],
        [2, null],
      ] as const)
        await run(
          `insert into contacts (organisation_id, key, id, display_name, sort_name, survey, created_at, updated_at)
           values ('org-1', ?, ?, 'Ada', 'ada', ?, 0, 0)`,
          [key, `c${key}`, state],
        );
      const image = { display_name: 'Ada', survey, phone: null };
      await run(
        `insert into import_changes (organisation_id, job_key, row_number, kind, contact_key, before)
         values ('org-1', 1, 2, 'updated', 1, ?)`,
        [JSON.stringify(image)],
      );
      await run(
        `insert into merges (organisation_id, id, survivor_key, merged_keys, before, after, created_at)
         values ('org-1', 'm1', 1, '[2]', ?, '{}', 0)`,
        [
          JSON.stringify({
            contacts: [
              { row: image, consent: {} },
              { row: { ...image, survey: null }, consent: {} },
            ],
          }),
        ],
      );

      const store = openStore({ url: database.url, ownerUrl: database.ownerUrl });
      await store.migrate();
      await store.close();

      const read = (text: string) => raw(dialect, database.url, 'org-1', text);
      const stored = await read('select key, extensions from contacts order by key');
      expect(stored.map((r) => [r.key, r.extensions && JSON.parse(r.extensions as string)])).toEqual([
        [1, JSON.parse(extensions)],
        [2, null],
      ]);
      const [change] = await read('select before from import_changes');
      expect(JSON.parse(change!.before as string)).toEqual({ display_name: 'Ada', phone: null, extensions });
      const [merge] = await read('select before from merges');
      expect(JSON.parse(merge!.before as string).contacts.map((c: { row: object }) => c.row)).toEqual([
        { display_name: 'Ada', phone: null, extensions },
        { display_name: 'Ada', phone: null, extensions: null },
      ]);
    } finally {
      await owner.destroy();
      await database.drop();
    }
  });
});
