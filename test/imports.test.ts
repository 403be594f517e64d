import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findLiveByPhones } from '../src/db/repositories/contacts.js';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';
import { importer, type Job } from './support/imports.js';
import { planOf, statementsOf } from './support/plans.js';
import { compiledReadingThread } from './support/server-process.js';
import { snapshot } from './support/snapshot.js';

const BOUNDARY = 'roster-boundary';
const FORM_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

/** A multipart form holding `csv` as its one file, in the field the import's requestBody names. */
const multipartForm = (csv: string, field = 'file') =>
  [
    `--${BOUNDARY}`,
    `Content-Disposition: form-data; name="${field}"; filename="people.csv"`,
    'Content-Type: text/csv',
    '',
    csv,
    `--${BOUNDARY}--`,
    '',
  ].join('\r\n');

/** Runs `act` as the next import's nth batch writes, in its transaction (every batch asks for the groups its rows name). */
function atBatch(h: Harness, n: number, act: () => Promise<void>) {
  const original = h.services.groups.keysByName.bind(h.services.groups);
  let batches = 0;
  return vi.spyOn(h.services.groups, 'keysByName').mockImplementation(async (...args) => {
    if (++batches === n) await act();
    return original(...args);
  });
}

/**
 * The next import dies as its nth batch writes, and leaves its upload, as a killed process does;
 * returns what brings the process back.
 */
function dieAtBatch(h: Harness, n: number): () => void {
  const crash = atBatch(h, n, async () => {
    throw new Error('the process died here');
  });
  const keep = vi
    .spyOn(h.services.imports as unknown as { removeUpload: () => Promise<void> }, 'removeUpload')
    .mockResolvedValue(undefined);
  return () => {
    crash.mockRestore();
    keep.mockRestore();
  };
}

/** The next import's nth batch waits as it writes until released; `reached` says it is there. */
function stallAtBatch(h: Harness, n: number) {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  const stall = atBatch(h, n, async () => {
    arrived();
    await held;
  });
  return { reached, release, restore: () => stall.mockRestore() };
}

describe.each(dialects)('bulk import and export on %s', (dialect) => {
  let h: Harness;
  let auth: { authorization: string };

  /** Uploads a file and waits for its import to end. */
  const importFile = (body: string | Buffer, query: string, contentType = 'text/csv', harness = h) =>
    importer(harness).importFile(body, query, contentType);
  const createContact = async (payload: Record<string, unknown>) =>
    (await h.request({ method: 'POST', url: '/v1/contacts', headers: auth, payload })).json();
  const contactsWhere = async (query: string) =>
    (await h.request({ method: 'GET', url: `/v1/contacts?limit=1000&${query}`, headers: auth })).json().items;
  const addsUp = (job: Job) =>
    expect(job.created + job.updated + job.unchanged + job.skipped + job.failed).toBe(job.rows_read);

  beforeAll(async () => {
    h = await createHarness(dialect, { importBatchSize: 3 });
    auth = { authorization: h.a.owner.apiKey };
  });
  afterAll(() => h.close());

  it('imports a CSV with local numbers into a group made on the fly, keeping rows with a field it cannot read and saying what it kept', async () => {
    const csv =
      'First Name,Last Name,Mobile Phone,E-mail Address,Tier\n' +
      'Ada,Lovelace,0412 345 678,ada@example.com,gold\n' +
      'Grace,Hopper,(02) 9374 4000,,\n' +
      'Bad,Phone,call me,,\n' +
      'Bad,Email,0412 000 001,not-an-email,\n' +
      'Alan,Turing,+44 20 7946 0958,alan@example.com,silver\n' +
      ',,,,\n' +
      ',,,nobody@invalid,\n';
    const job = await importFile(csv, 'group_name=Imported&mode=upsert');
    expect(job).toMatchObject({
      status: 'completed',
      rows_read: 6,
      created: 5,
      failed: 1,
      warnings: { email_invalid: 1, phone_unreadable: 1 },
    });
    addsUp(job);
    const ada = (await contactsWhere('phone=%2B61412345678'))[0];
    expect(ada).toMatchObject({
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      custom: { Tier: 'gold' },
      consent: {},
    });
    const [badPhone] = await contactsWhere('q=bad%20phone');
    expect(badPhone).toMatchObject({ phone: null, phone_raw: 'call me', phone_valid: false });
    const group = (await h.request({ method: 'GET', url: '/v1/groups?q=Imported', headers: auth })).json()
      .items[0];
    expect(group.member_count).toBe(5);
    const report = await h.request({ method: 'GET', url: `/v1/imports/${job.id}/errors`, headers: auth });
    expect(report.headers['content-type']).toContain('text/csv');
    const lines = report.body.trim().split('\n');
    expect(lines[0]).toBe('row,reason,raw');
    expect(lines[1]).toMatch(/^7,"the row has no name, phone or email it could read \(email: is not a valid/);
    const warnings = await h.request({ method: 'GET', url: `/v1/imports/${job.id}/warnings`, headers: auth });
    const warned = warnings.body.trim().split('\n');
    expect(warned[0]).toBe('row,kind,field,value,reason');
    // "Mobile Phone" labels the number, so the warning names its entry.
    expect(warned[1]).toMatch(
      /^3,phone_unreadable,phones\[0\]\.number,call me,"may contain only digits.*kept as written/,
    );
    expect(warned[2]).toMatch(/^4,email_invalid,email,not-an-email,is not a valid email address; left out$/);
    expect(warned).toHaveLength(3);
  });

  it('leaves out a field holding a NUL character, which the database could not store, with a warning, and imports the row', async () => {
    const csv =
      'name,phone,Tier\nAda\0 Lovelace,+61412345600,gold\nGrace Hopper,+61293744777,silver\nAlan Turing,+442079460777,go\0ld\n';
    const job = await importFile(csv, 'mode=create');
    expect(job).toMatchObject({
      status: 'completed',
      rows_read: 3,
      created: 3,
      failed: 0,
      warnings: { field_invalid: 2 },
    });
    const report = await h.request({ method: 'GET', url: `/v1/imports/${job.id}/warnings`, headers: auth });
    const lines = report.body.trim().split('\n');
    expect(lines[1]).toMatch(
      /^1,field_invalid,name,Ada\uFFFD Lovelace,must not contain a NUL character; left out/,
    );
    expect(lines[2]).toMatch(
      /^3,field_invalid,custom.Tier,go\uFFFDld,must not contain a NUL character; left out/,
    );
    expect((await contactsWhere('phone=%2B61412345600'))[0]).toMatchObject({ name: '+61412345600' });
    expect((await contactsWhere('phone=%2B442079460777'))[0].custom).toEqual({});
  });

  it('upserts by phone then email, handles duplicates inside the file by the same rule, and fills only empty fields when asked', async () => {
    const existing = await createContact({
      name: 'Katherine Johnson',
      phone: '0400 111 222',
      company: 'NASA',
      consent: { sms: 'unsubscribed' },
    });
    const csv =
      'name,phone,email,company\n' +
      'Katherine Johnson,+61400111222,kj@example.com,Langley\n' +
      'Dorothy Vaughan,0400 333 444,dv@example.com,\n' +
      'Dorothy V.,0400333444,,West Computers\n' +
      'Mary Jackson,,mj@example.com,\n';
    const job = await importFile(
      csv,
      `fields=${encodeURIComponent(JSON.stringify({ company: 'fill_empty' }))}`,
    );
    expect(job).toMatchObject({ created: 2, updated: 2, failed: 0 });
    addsUp(job);
    const kj = (await h.request({ method: 'GET', url: `/v1/contacts/${existing.id}`, headers: auth })).json();
    expect(kj).toMatchObject({
      email: 'kj@example.com',
      company: 'NASA',
      consent: { sms: { status: 'unsubscribed' } },
    });
    const dorothy = await contactsWhere('phone=0400333444');
    expect(dorothy).toHaveLength(1);
    expect(dorothy[0]).toMatchObject({
      name: 'Dorothy V.',
      company: 'West Computers',
      email: 'dv@example.com',
    });
  });

  it('keeps the number as typed of a contact a row matches without giving a number', async () => {
    const typed = await createContact({
      name: 'Annie Easley',
      phone: '0400 777 888',
      email: 'ae@example.com',
    });
    const csv = 'name,email,company\nAnnie Easley,ae@example.com,Lewis\n';
    expect(await importFile(csv, 'mode=upsert')).toMatchObject({ updated: 1, failed: 0 });
    const after = (await h.request({ method: 'GET', url: `/v1/contacts/${typed.id}`, headers: auth })).json();
    expect(after).toMatchObject({ company: 'Lewis', phone: '+61400777888', phone_raw: '0400 777 888' });
    expect(await importFile(csv, 'mode=upsert')).toMatchObject({ updated: 0, unchanged: 1 });
  });

  it('skips matches and in-file duplicates in skip mode, and changes consent only when asked', async () => {
    await createContact({ name: 'Mae Jemison', phone: '0400 111 333', consent: { sms: 'unsubscribed' } });
    const csv = 'name,phone\nMae Jemison,0400 111 333\nNew Person,0400 555 666\nNew Person,0400 555 666\n';
    const job = await importFile(csv, `mode=skip&consent=${encodeURIComponent('{"sms":"subscribed"}')}`);
    expect(job).toMatchObject({ created: 1, skipped: 2, skipped_in_file: 1 });
    addsUp(job);
    expect((await contactsWhere('phone=0400111333'))[0].consent.sms.status).toBe('unsubscribed');
    expect((await contactsWhere('phone=0400555666'))[0].consent.sms).toMatchObject({
      status: 'subscribed',
      source: 'import',
    });
  });

  it('reports a dry run without writing anything', async () => {
    const before = (await contactsWhere('')).length;
    const job = await importFile(
      'name,phone\nDry One,0400 777 001\nDry Two,0400 777 002\n,xyz\n',
      'dry_run=true&group_name=Dry',
    );
    expect(job).toMatchObject({ status: 'completed', created: 2, failed: 1 });
    expect((await contactsWhere('')).length).toBe(before);
    expect((await h.request({ method: 'GET', url: '/v1/groups?q=Dry', headers: auth })).json().items).toEqual(
      [],
    );
  });

  it('imports vCard and JSON Lines files', async () => {
    const vcf =
      'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Hedy Lamarr\r\nN:Lamarr;Hedy;;;\r\nTEL;TYPE=CELL:0400 888 001\r\nEMAIL:hedy@example.com\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:Joan Clarke\r\nTEL;VALUE=uri;TYPE=cell:tel:+61400888002\r\nEND:VCARD\r\n';
    expect(await importFile(vcf, '', 'text/vcard')).toMatchObject({ created: 2, failed: 0 });
    const jsonl =
      '{"name":"Radia Perlman","mobile":"0400 888 003","custom":{"field":"networks"}}\nnot json\n';
    expect(await importFile(jsonl, '', 'application/x-ndjson')).toMatchObject({ created: 1, failed: 1 });
    expect((await contactsWhere('q=radia'))[0].custom).toEqual({ field: 'networks' });
    expect((await contactsWhere('q=lamarr'))[0]).toMatchObject({ first_name: 'Hedy', phone: '+61400888001' });
  });

  it('rolls an import back, listing what changed since instead of undoing it', async () => {
    const target = await createContact({ name: 'Undo Target', phone: '0400 999 000', company: 'Before' });
    const csv =
      'name,phone,company\nUndo Target,0400 999 000,After\nUndo New,0400 999 001,\nUndo Touched,0400 999 002,\n';
    const job = await importFile(csv, 'group_name=Undo');
    expect(job).toMatchObject({ created: 2, updated: 1 });
    const touched = (await contactsWhere('phone=0400999002'))[0];
    await h.request({
      method: 'PATCH',
      url: `/v1/contacts/${touched.id}`,
      headers: auth,
      payload: { company: 'Edited later' },
    });
    const res = await h.request({ method: 'POST', url: `/v1/imports/${job.id}/rollback`, headers: auth });
    expect(res.json()).toMatchObject({
      status: 'partially_rolled_back',
      rollback: {
        rolled_back: 2,
        not_rolled_back: [{ row: 3, reason: 'the contact has changed since the import' }],
      },
    });
    expect(
      (await h.request({ method: 'GET', url: `/v1/contacts/${target.id}`, headers: auth })).json().company,
    ).toBe('Before');
    expect(await contactsWhere('phone=0400999001')).toEqual([]);
    expect((await contactsWhere('phone=0400999002'))[0].company).toBe('Edited later');
    // The memberships the import added go too, even that of the contact kept because it was edited since.
    const group = (await h.request({ method: 'GET', url: '/v1/groups?q=Undo', headers: auth })).json()
      .items[0];
    expect(group.member_count).toBe(0);
  });

  it('keeps a group’s member count through deletes, a restore and the rollback of a member deleted since', async () => {
    const job = await importFile(
      'name,phone\nCount One,0400 878 001\nCount Two,0400 878 002\nCount Three,0400 878 003\n',
      'group_name=Counted',
    );
    const group = async () =>
      (await h.request({ method: 'GET', url: '/v1/groups?q=Counted', headers: auth })).json().items[0];
    expect((await group()).member_count).toBe(3);
    const [one, two] = [
      (await contactsWhere('phone=0400878001'))[0],
      (await contactsWhere('phone=0400878002'))[0],
    ];
    await h.request({ method: 'DELETE', url: `/v1/contacts/${one.id}`, headers: auth });
    await h.request({ method: 'DELETE', url: `/v1/contacts/${two.id}`, headers: auth });
    expect((await group()).member_count).toBe(1);
    await h.request({ method: 'POST', url: `/v1/contacts/${two.id}/restore`, headers: auth });
    expect((await group()).member_count).toBe(2);
    await h.request({ method: 'POST', url: `/v1/imports/${job.id}/rollback`, headers: auth });
    expect((await group()).member_count).toBe(0);
  });

  it('takes over an import whose process died once its lease runs out, after its last committed batch, importing no row twice', async () => {
    const rows = Array.from({ length: 8 }, (_, i) => `Resume ${i},0400 123 ${String(100 + i)}`);
    const revive = dieAtBatch(h, 2);
    const failed = await importFile(`name,phone\n${rows.join('\n')}\n`, '');
    revive();
    expect(failed).toMatchObject({ status: 'failed', rows_read: 3, created: 3 });
    // What a killed process leaves behind: the job running, under a lease nobody renews.
    const leave = (expires: number) =>
      h.store.db
        .updateTable('import_jobs')
        .set({ status: 'running', lease_owner: 'a-dead-process', lease_expires_at: expires })
        .where('id', '=', failed.id)
        .execute();
    await leave(Date.now() + 60_000);
    expect(await h.services.imports.takeOver()).toBe(false);
    await leave(Date.now() - 1);
    expect(await h.services.imports.takeOver()).toBe(true);
    const actor = {
      ...(await h.services.auth.verifyBearer(h.a.owner.apiKey.slice(7))),
      surface: 'v1' as const,
    };
    const done = await h.services.imports.settled(actor, failed.id);
    expect(done).toMatchObject({ status: 'completed', rows_read: 8, created: 8 });
    expect(await contactsWhere('q=resume')).toHaveLength(8);
    expect(await h.services.imports.takeOver()).toBe(false);
  });

  it('a process that lost its lease commits no batch more; the one that took the job over imports each row once', async () => {
    const rows = Array.from({ length: 9 }, (_, i) => `Fenced ${i},0400 124 ${String(100 + i)}`);
    // The second batch (rows 4-6) stalls as it writes, in its transaction.
    const stall = stallAtBatch(h, 2);
    const started = await h.request({
      method: 'POST',
      url: '/v1/imports',
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: `name,phone\n${rows.join('\n')}\n`,
    });
    const id = started.json().id;
    await stall.reached;
    // The process stalled past its lease, and another process claimed the job meanwhile. (On
    // SQLite the claim waits for the batch in flight, whose transaction holds the writer.)
    const claimed = h.store.db
      .updateTable('import_jobs')
      .set({ lease_owner: 'another-process', lease_expires_at: Date.now() - 1 })
      .where('id', '=', id)
      .execute();
    stall.release();
    await claimed;
    const actor = {
      ...(await h.services.auth.verifyBearer(h.a.owner.apiKey.slice(7))),
      surface: 'v1' as const,
    };
    const stalled = await h.services.imports.settled(actor, id);
    stall.restore();
    expect(stalled.status).toBe('running');
    expect([3, 6]).toContain(stalled.rows_read);
    expect(stalled.created).toBe(stalled.rows_read);
    expect(await contactsWhere('q=fenced')).toHaveLength(stalled.rows_read);
    expect(await h.services.imports.takeOver()).toBe(true);
    expect(await h.services.imports.settled(actor, id)).toMatchObject({
      status: 'completed',
      rows_read: 9,
      created: 9,
    });
    expect(await contactsWhere('q=fenced')).toHaveLength(9);
  });

  it('exports with the list filters, escaping formulas, and re-imports to the same contacts', async () => {
    await createContact({ name: '=cmd|calc', phone: '0400 246 810', custom: { note: '@risk' } });
    const csv = await h.request({
      method: 'GET',
      url: '/v1/contacts/export?format=csv&bom=true',
      headers: auth,
    });
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.startsWith('\uFEFFid,name,first_name')).toBe(true);
    expect(csv.body).toContain(`'=cmd|calc`);
    expect(csv.body).toContain(',+61400246810,');
    const members = [
      await h.a.contact({ name: 'Filtered One' }),
      await h.a.contact({ name: 'Filtered Two' }),
    ];
    const group = await h.a.group(
      { name: 'Export filter' },
      members.map((m) => m.id),
    );
    const filtered = await h.request({
      method: 'GET',
      url: `/v1/contacts/export?format=jsonl&group_id=${group.id}`,
      headers: auth,
    });
    expect(
      filtered.body
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).name),
    ).toEqual(expect.arrayContaining(['Filtered One', 'Filtered Two']));
    expect(filtered.body.trim().split('\n')).toHaveLength(2);

    for (const format of ['csv', 'jsonl', 'vcf'] as const) {
      const exported = await h.request({
        method: 'GET',
        url: `/v1/contacts/export?format=${format}`,
        headers: auth,
      });
      const fresh = await createHarness(dialect);
      try {
        const type = { csv: 'text/csv', jsonl: 'application/x-ndjson', vcf: 'text/vcard' }[format];
        const job = await importFile(exported.body, 'country=AU', type, fresh);
        expect(job.failed, format).toBe(0);
        const before = (await contactsWhere(''))
          .map((c: { name: string; phone: string | null; email: string | null }) => [
            c.name,
            c.phone,
            c.email,
          ])
          .sort();
        const after = (
          await fresh.request({
            method: 'GET',
            url: '/v1/contacts?limit=1000',
            headers: { authorization: fresh.a.owner.apiKey },
          })
        )
          .json()
          .items.map((c: { name: string; phone: string | null; email: string | null }) => [
            c.name,
            c.phone,
            c.email,
          ])
          .sort();
        expect(after, format).toEqual(before);
      } finally {
        await fresh.close();
      }
    }
  }, 90_000); // Two exports and a re-import into a fresh database: slow on a loaded machine.

  it("writes each exported contact's live groups only, though a chunk's memberships are read as one range of keys", async () => {
    const fresh = await createHarness(dialect);
    try {
      const t = fresh.a;
      const people = [];
      for (const name of ['One', 'Two', 'Three', 'Four', 'Five', 'Six'])
        people.push(await t.contact({ name }));
      const [one, two, three, four, five] = people.map((p) => p.id);
      await t.group({ name: 'Alpha' }, [one!, two!, three!, five!]);
      const beta = await t.group({ name: 'beta' }, [two!, four!, five!]);
      const gone = await t.group({ name: 'Gone' }, [three!]);
      expect((await t.send('DELETE', `/v1/groups/${gone.id}`)).statusCode).toBe(204);
      // Deleted, but still a member of beta: its memberships lie inside the range of the others' keys.
      expect((await t.send('DELETE', `/v1/contacts/${four}`)).statusCode).toBe(204);
      const groupsOf = async (query: string) =>
        Object.fromEntries(
          (await t.send('GET', `/v1/contacts/export?format=jsonl${query}`)).body
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as { name: string; groups: string[] })
            .map((c) => [c.name, c.groups]),
        );
      expect(await groupsOf('')).toEqual({
        One: ['Alpha'],
        Two: ['Alpha', 'beta'],
        Three: ['Alpha'],
        Five: ['Alpha', 'beta'],
        Six: [],
      });
      expect(await groupsOf(`&group_id=${beta.id}`)).toEqual({
        Two: ['Alpha', 'beta'],
        Five: ['Alpha', 'beta'],
      });
    } finally {
      await fresh.close();
    }
  });

  it('exports every contact once across its chunks, in the order it was made or by the sort asked for', async () => {
    const big = await createHarness(dialect);
    try {
      // Names repeat (ties broken by key) and run against the order of creation.
      const rows = Array.from(
        { length: 11_000 },
        (_, i) =>
          `Person ${String(10_999 - i).padStart(5, '0')} ${i % 7},04${String(10_000_000 + i).slice(1)}`,
      );
      const job = await importFile(`name,phone\n${rows.join('\n')}\n`, 'country=AU', 'text/csv', big);
      expect(job).toMatchObject({ created: 11_000, failed: 0 });
      const exported = async (query: string) =>
        (
          await big.request({
            method: 'GET',
            url: `/v1/contacts/export?format=jsonl${query}`,
            headers: { authorization: big.a.owner.apiKey },
          })
        ).body
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { id: string; name: string });
      const made = await exported('');
      expect(new Set(made.map((c) => c.id)).size).toBe(11_000);
      expect(made[0]!.name).toBe('Person 10999 0');
      const byName = await exported('&sort=name');
      expect(byName.map((c) => c.name)).toEqual(made.map((c) => c.name).sort());
      const backwards = await exported('&sort=name&order=desc');
      expect(backwards.map((c) => c.id)).toEqual(byName.map((c) => c.id).reverse());
    } finally {
      await big.close();
    }
  }, 180_000);

  it('matches on an external id when asked, updating the contact the id names even when its number changed', async () => {
    const first = await importFile(
      'legacy id,name,phone\nL-1,Legacy One,0400 864 201\nL-2,Legacy Two,0400 864 202\n',
      'match=external_id&external_key=crm',
    );
    expect(first).toMatchObject({ created: 2 });
    const second = await importFile(
      'legacy id,name,phone\nL-1,Legacy One,0400 864 299\nL-3,Legacy Three,0400 864 203\nL-3,Legacy 3,\n',
      'match=external_id&external_key=crm&mapping=' + encodeURIComponent('{"legacy id":"external_id"}'),
    );
    expect(second).toMatchObject({ created: 1, updated: 2, failed: 0 });
    const one = await contactsWhere('q=legacy%20one');
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({ phone: '+61400864299', external_ids: { crm: 'L-1' } });
    expect(await contactsWhere('q=legacy')).toHaveLength(3);
  });

  it('refuses a file whose format neither its type nor its name tells with 400, writing nothing', async () => {
    const before = await snapshot(h);
    const uploads: [string, string, string][] = [
      ['filename=people.xlsx', 'application/octet-stream', 'name\nX\n'],
      // A name that is a member every JavaScript object has is no format either.
      ['filename=people.constructor', 'application/octet-stream', 'name\nX\n'],
      ['filename=people.constructor', 'text/plain', 'name\nX\n'],
      [
        '',
        FORM_TYPE,
        multipartForm('name\nX\n')
          .replace('people.csv', 'people.constructor')
          .replace('Content-Type: text/csv', 'Content-Type: text/plain'),
      ],
    ];
    for (const [query, type, payload] of uploads) {
      const res = await h.request({
        method: 'POST',
        url: `/v1/imports?${query}`,
        headers: { ...auth, 'content-type': type },
        payload,
      });
      expect(res.statusCode, `${query} ${type}`).toBe(400);
      expect(res.json().errors, `${query} ${type}`).toEqual([expect.objectContaining({ field: 'format' })]);
    }
    expect(await snapshot(h)).toEqual(before);
  });

  it('takes the file as its documented requestBody says: any declared media type as the body, or the form field', async () => {
    const doc = (await h.request({ method: 'GET', url: '/openapi.json' })).json();
    const { content, required } = doc.paths['/v1/imports'].post.requestBody;
    expect(required).toBe(true);
    const raw = Object.keys(content).filter((type) => type !== 'multipart/form-data');
    expect(raw).toEqual(
      expect.arrayContaining([
        'text/csv',
        'text/vcard',
        'application/x-ndjson',
        // Types the format detector has long read in a form's part; a raw body of them was a 415.
        'application/csv',
        'text/directory',
        'application/jsonlines',
      ]),
    );
    // Every declared media type is one the route reads (format= covers those that name no format).
    for (const [n, type] of raw.entries()) {
      const job = await importFile(
        `name,phone\nRaw ${n},0400 135 8${String(n).padStart(2, '0')}\n`,
        'format=csv',
        type,
      );
      expect(job, type).toMatchObject({ status: 'completed', created: 1 });
    }
    // Each of those names its format: no format= needed.
    const named: [string, string, string][] = [
      ['application/csv', 'csv', 'name,phone\nNamed Csv,0400 135 901\n'],
      ['text/directory', 'vcf', 'BEGIN:VCARD\nVERSION:3.0\nFN:Named Vcard\nTEL:0400 135 902\nEND:VCARD\n'],
      ['application/jsonlines', 'jsonl', '{"name":"Named Jsonl","phone":"0400 135 903"}\n'],
    ];
    for (const [type, format, file] of named)
      expect(await importFile(file, '', type), type).toMatchObject({
        format,
        status: 'completed',
        created: 1,
      });
    const undeclared = await h.request({
      method: 'POST',
      url: '/v1/imports?format=csv',
      headers: { ...auth, 'content-type': 'application/xml' },
      payload: 'name\nX\n',
    });
    expect(undeclared.statusCode).toBe(415);

    const form = content['multipart/form-data'].schema;
    expect(form.type).toBe('object');
    const [field] = form.required;
    expect(Object.keys(form.properties)).toEqual([field]);
    const job = await importFile(
      multipartForm('name,phone\nForm Person,0400 135 790\n', field),
      '',
      FORM_TYPE,
    );
    expect(job).toMatchObject({ status: 'completed', created: 1 });
    expect((await contactsWhere('phone=0400135790'))[0].name).toBe('Form Person');
  });

  it('imports a form’s file bigger than the server’s body limit whole, as a raw body, and refuses one over the import limit with 413', async () => {
    // Imports are bounded by their own limit (importMaxBytes), not by the body limit of JSON requests.
    const limited = await createHarness(dialect, { bodyLimitBytes: 1000, importMaxBytes: 5000 });
    try {
      const rows = Array.from(
        { length: 100 },
        (_, i) => `Form Big ${i},0401 000 ${String(i).padStart(3, '0')}`,
      );
      const file = ['name,phone', ...rows, ''].join('\n');
      expect(Buffer.byteLength(file)).toBeGreaterThan(1000);
      const job = await importFile(multipartForm(file), '', FORM_TYPE, limited);
      expect(job).toMatchObject({ status: 'completed', created: 100, failed: 0 });

      const oversized = 'name\n' + 'x\n'.repeat(3000);
      for (const [type, payload] of [
        ['text/csv', oversized],
        [FORM_TYPE, multipartForm(oversized)],
      ]) {
        const res = await limited.request({
          method: 'POST',
          url: '/v1/imports',
          headers: { authorization: limited.a.owner.apiKey, 'content-type': type },
          payload,
        });
        expect(res.statusCode, type).toBe(413);
      }
      const listed = await limited.request({
        method: 'GET',
        url: '/v1/contacts?limit=1000',
        headers: { authorization: limited.a.owner.apiKey },
      });
      expect(
        listed
          .json()
          .items.map((c: { name: string }) => c.name)
          .sort(),
      ).toEqual(rows.map((row) => row.split(',')[0]).sort());
    } finally {
      await limited.close();
    }
  });

  it('refuses a file over the limit with 413, an unknown format with 400, and another organisation’s job with 404', async () => {
    const small = await createHarness(dialect, { importMaxBytes: 100 });
    try {
      const res = await small.request({
        method: 'POST',
        url: '/v1/imports',
        headers: { authorization: small.a.owner.apiKey, 'content-type': 'text/csv' },
        payload: 'name\n' + 'x\n'.repeat(100),
      });
      expect(res.statusCode).toBe(413);
    } finally {
      await small.close();
    }
    const unknown = await h.request({
      method: 'POST',
      url: '/v1/imports',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      payload: 'name\nx\n',
    });
    expect(unknown.statusCode).toBe(400);
    const job = await importFile('name\nPrivate\n', '');
    for (const url of [`/v1/imports/${job.id}`, `/v1/imports/${job.id}/errors`]) {
      expect(
        (await h.request({ method: 'GET', url, headers: { authorization: h.b.owner.apiKey } })).statusCode,
      ).toBe(404);
    }
    const viewer = await h.a.addUser('viewer');
    expect(
      (
        await h.request({
          method: 'POST',
          url: '/v1/imports',
          headers: { authorization: viewer.apiKey, 'content-type': 'text/csv' },
          payload: 'name\nx\n',
        })
      ).statusCode,
    ).toBe(403);
  });
});

// SQLite's alone: PostgreSQL's ANALYZE samples rows, not the first entries of an index, and reads
// an organisation of 20,000 contacts right (it then scans them, rightly, for 1,000 numbers).
describe('an import’s batches at their default size on SQLite', () => {
  const dialect = 'sqlite';
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterAll(() => h.close());

  it('let the next batch look up 1,000 numbers by their index, not by reading the organisation', async () => {
    const numbers = Array.from({ length: 20_000 }, (_, i) => `+614130${String(i).padStart(5, '0')}`);
    const csv = `Name,Phone\n${numbers.map((n, i) => `Person ${i},${n}`).join('\n')}\n`;
    const job = await importer(h).importFile(csv, 'mode=upsert');
    expect(job).toMatchObject({ status: 'completed', created: numbers.length });
    // The statement a batch's lookup makes, explained on the statistics the import itself took.
    const wanted = [
      ...numbers.slice(0, 500),
      ...numbers.slice(0, 500).map((n) => n.replace('+614130', '+614131')),
    ];
    const [statement] = await statementsOf(dialect, h.database, h.a.org.id, async (scope) => {
      expect(await findLiveByPhones(scope, wanted)).toHaveLength(500);
    });
    const plan = await planOf(dialect, h.database, h.a.org.id, statement!);
    expect(plan).toMatch(/INDEX contacts_org_phone \(organisation_id=\? AND phone=\?\)/);
    expect(plan).not.toMatch(/INDEX contacts_org_key \(organisation_id=\?\)$/m);
  });

  it('ends a batch at 2 MiB of the file’s text as well as at 1,000 rows, so long rows make smaller batches', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `Long ${i},0400 127 ${100 + i},${'x'.repeat(60_000)}`);
    const revive = dieAtBatch(h, 2);
    const failed = await importer(h).importFile(`name,phone,bio\n${lines.join('\n')}\n`, '');
    revive();
    // 35 rows of 60,000 characters pass 2 MiB: the first batch, committed before the second died.
    expect(failed).toMatchObject({ status: 'failed', rows_read: 35, created: 35 });
  });
});

describe.each(dialects)('an import read on a thread of its own on %s', (dialect) => {
  // The file of every kind of row: warnings, a failure, a blank row, a duplicate inside it, the groups rows name.
  const rows = [
    'Name,Phone,Email,Group',
    'José Álvarez,0412 345 001,jose@example.com,Choir',
    'Call Me,call me,,Choir',
    'Bad Email,0412 345 002,not-an-email,',
    ',,,',
    ',,nobody@invalid,',
    `Long Group,0412 345 003,,${'g'.repeat(101)}`,
    'José Álvarez,0412 345 001,,Staff',
    ...Array.from(
      { length: 12 },
      (_, i) => `Person ${i},0412 346 ${String(100 + i)},p${i}@example.com,Staff`,
    ),
  ];
  // Windows-1252, as a spreadsheet saves it: the file's encoding is found, with a warning.
  const file = Buffer.from(`${rows.join('\r\n')}\r\n`, 'latin1');
  let threaded: Harness;
  let main: Harness;
  beforeAll(async () => {
    const importReadingThread = compiledReadingThread();
    [threaded, main] = await Promise.all([
      createHarness(dialect, { importBatchSize: 3, importReadingThread }),
      createHarness(dialect, { importBatchSize: 3 }),
    ]);
  });
  afterAll(() => Promise.all([threaded.close(), main.close()]));

  /** An import as its owner sees it: the job, its reports, and the contacts with their groups. */
  const outcome = async (h: Harness, query = 'mode=upsert&group_name=Imported') => {
    const io = importer(h);
    const job = await io.importFile(file, query);
    const exported = await io.get('/v1/contacts/export?format=jsonl');
    const contacts = exported.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .map(({ name, phone, phone_raw, email, groups }) => ({ name, phone, phone_raw, email, groups }))
      .sort((x, y) => x.name.localeCompare(y.name));
    const { id: _id, created_at: _c, started_at: _s, finished_at: _f, rows_per_second: _r, ...shown } = job;
    return {
      job: shown,
      errors: await io.report(job, 'errors'),
      warnings: await io.report(job, 'warnings'),
      contacts,
    };
  };

  it('imports a file exactly as the main thread does: the same job, reports, warnings and contacts', async () => {
    const [onThread, onMain] = await Promise.all([outcome(threaded), outcome(main)]);
    expect(onThread.job).toMatchObject({
      status: 'completed',
      rows_read: 18,
      created: 16,
      unchanged: 1,
      failed: 1,
      warnings: { phone_unreadable: 1, email_invalid: 1, field_invalid: 1 },
      encoding: { how: 'detected' },
    });
    expect(onThread.contacts.find((c) => c.name === 'José Álvarez')).toMatchObject({
      phone: '+61412345001',
      email: 'jose@example.com',
    });
    expect(onThread).toEqual(onMain);
  });

  it('resumes after its last committed batch when another process takes it over', async () => {
    const revive = dieAtBatch(threaded, 3);
    const lines = Array.from({ length: 10 }, (_, i) => `Thread ${i},0400 125 ${String(100 + i)}`);
    const failed = await importer(threaded).importFile(`name,phone\n${lines.join('\n')}\n`, '');
    revive();
    expect(failed).toMatchObject({ status: 'failed', rows_read: 6, created: 6 });
    await threaded.store.db
      .updateTable('import_jobs')
      .set({ status: 'running', lease_owner: 'a-dead-process', lease_expires_at: Date.now() - 1 })
      .where('id', '=', failed.id)
      .execute();
    expect(await threaded.services.imports.takeOver()).toBe(true);
    const actor = {
      ...(await threaded.services.auth.verifyBearer(threaded.a.owner.apiKey.slice(7))),
      surface: 'v1' as const,
    };
    expect(await threaded.services.imports.settled(actor, failed.id)).toMatchObject({
      status: 'completed',
      rows_read: 10,
      created: 10,
    });
    expect(await importer(threaded).contactsWhere('q=thread')).toHaveLength(10);
  });

  it('cancels a running import after the batch in hand, on either thread, keeping what it committed', async () => {
    for (const h of [threaded, main]) {
      const stall = stallAtBatch(h, 2);
      const io = importer(h);
      // Windows-1252: its encoding is found as it is first read, and said of the cancelled import too.
      const lines = Array.from({ length: 12 }, (_, i) => `José Cancelled ${i},0400 128 ${100 + i}`);
      const started = await h.request({
        method: 'POST',
        url: '/v1/imports',
        headers: { ...io.auth, 'content-type': 'text/csv' },
        payload: Buffer.from(`name,phone\n${lines.join('\n')}\n`, 'latin1'),
      });
      await stall.reached;
      const cancelling = io.post(`/v1/imports/${started.json().id}/cancel`);
      stall.release();
      const cancelled = (await cancelling).json();
      stall.restore();
      expect(cancelled).toMatchObject({ status: 'cancelled', rows_read: 6, created: 6 });
      expect(cancelled.encoding).toMatchObject({ how: 'detected' });
      expect(await io.contactsWhere('q=cancelled')).toHaveLength(6);
      expect(readdirSync(h.importDirectory)).toEqual([]);
    }
  });

  it('fails the import with the reason the thread could not read the file', async () => {
    const failed = await importer(threaded).importFile(`"${'x'.repeat(70_000)}\n`, '');
    expect(failed).toMatchObject({ status: 'failed', rows_read: 0 });
    expect(failed.error).toMatch(/the header row cannot be read: the record is longer than 64 KiB/);
  });
});
