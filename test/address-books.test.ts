import { readdirSync } from 'node:fs';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from './support/databases.js';
import { createHarness, type Harness } from './support/harness.js';
import { importer } from './support/imports.js';

const card = (...lines: string[]) => ['BEGIN:VCARD', 'VERSION:3.0', ...lines, 'END:VCARD', ''].join('\r\n');

describe.each(dialects)('address books come in whole on %s', (dialect) => {
  let h: Harness;
  let io: ReturnType<typeof importer>;

  beforeAll(async () => {
    h = await createHarness(dialect);
    io = importer(h);
  });
  afterAll(() => h.close());

  it('keeps every person whose card holds a field it cannot read, and says what it kept and how', async () => {
    const note = 'A long note. '.repeat(1000); // 13,000 characters
    const vcf = [
      card(
        'FN:Too Many Digits',
        'TEL;TYPE=CELL:+1 418 656 925412',
        'TEL;TYPE=HOME:+1 418 656 9257',
        'EMAIL:tmd@example.com',
      ),
      card('FN:Emergency', 'TEL:112'),
      card('FN:Front Desk', 'TEL;VALUE=uri:tel:+1-418-656-9254;ext=102'),
      card('FN:Pause Dialler', 'TEL:+1 418 656 9255p123w4'),
      card('FN:Marked Number', 'TEL:\u202a+91 81297 00200\u202c'),
      card('FN:Invalid Domain', 'EMAIL:contact1@invalid'),
      card('FN:Long Note', `NOTE:${note}`),
      card('FN:Too Long Note', 'TEL:+1 418 656 9256', `NOTE:${'x'.repeat(20_001)}`),
      card('EMAIL:nobody@invalid'),
    ].join('');
    const job = await io.importFile(vcf, 'country=US', 'text/vcard');
    expect(job).toMatchObject({
      status: 'completed',
      rows_read: 9,
      created: 8,
      failed: 1,
      warnings: { phone_unreadable: 2, phone_extension: 2, email_invalid: 1, field_invalid: 1 },
    });
    const named = async (q: string) => (await io.contactsWhere(`q=${encodeURIComponent(q)}`))[0];
    expect(await named('Too Many Digits')).toMatchObject({
      phone: null,
      phone_raw: '+1 418 656 925412',
      phone_valid: false,
      email: 'tmd@example.com',
    });
    expect(await named('Emergency')).toMatchObject({ phone: null, phone_raw: '112', phone_valid: false });
    expect(await named('Front Desk')).toMatchObject({
      phone: '+14186569254',
      phone_raw: '+1-418-656-9254;ext=102',
      phone_valid: true,
    });
    expect(await named('Pause Dialler')).toMatchObject({
      phone: '+14186569255',
      phone_raw: '+1 418 656 9255p123w4',
    });
    expect(await named('Marked Number')).toMatchObject({ phone: '+918129700200', phone_valid: true });
    expect(await named('Invalid Domain')).toMatchObject({ email: null });
    expect((await named('Long Note')).notes).toBe(note.trim());
    expect((await named('Too Long Note')).notes).toBeNull();
    // Found by the number read, extension or not.
    expect((await io.contactsWhere('phone=%2B14186569254'))[0].name).toBe('Front Desk');

    const warnings = await io.report(job, 'warnings');
    expect(warnings[0]).toBe('row,kind,field,value,reason');
    expect(warnings.slice(1).map((line) => line.split(',').slice(0, 3).join(','))).toEqual([
      '1,phone_unreadable,phones[0].number',
      '2,phone_unreadable,phone',
      '3,phone_extension,phone',
      '4,phone_extension,phone',
      '6,email_invalid,email',
      '8,field_invalid,notes',
    ]);
    expect(warnings[1]).toContain('+1 418 656 925412');
    expect(warnings[6]).toMatch(
      /^8,field_invalid,notes,x{1000}…,must be at most 20000 characters; left out$/,
    );
    const errors = await io.report(job, 'errors');
    expect(errors[1]).toMatch(
      /^9,"the row has no name, phone or email it could read \(email: is not a valid email address; left out\)"/,
    );
  });

  it('never runs two people together: a shared number under another name is a conflict, or a second contact where numbers may be shared', async () => {
    const b = importer(h, h.b);
    const post = (payload: Record<string, unknown>) =>
      h.request({ method: 'POST', url: '/v1/contacts', headers: b.auth, payload });
    await h.request({
      method: 'PATCH',
      url: '/v1/organisation',
      headers: b.auth,
      payload: { default_country: 'AU' },
    });
    const ann = (
      await post({
        first_name: 'Ann',
        last_name: 'Smith',
        phone: '(02) 9374 4000',
        email: 'smiths@example.com',
      })
    ).json();
    const csv =
      'First Name,Last Name,Phone,Email\n' +
      'Bob,Smith,(02) 9374 4000,\n' + // the family landline, another person
      'Ann,Smith,(02) 9374 4000,ann@example.com\n' + // Ann herself
      'Carol,Jones,0400 100 200,\n' +
      'Dan,Jones,0400 100 200,\n' + // a number an earlier row holds, another name
      'Eve,Smith,,smiths@example.com\n'; // a shared address: another person, created
    const job = await b.importFile(csv, 'mode=upsert');
    expect(job).toMatchObject({ created: 2, updated: 1, failed: 2 });
    const errors = await b.report(job, 'errors');
    expect(errors[1]).toContain(
      `1,"phone: +61293744000 belongs to contact ${ann.id} (Ann Smith), whose name differs; that contact is left as it is"`,
    );
    expect(errors[2]).toContain('4,"phone: +61400100200 belongs to row 3 of this file, whose name differs"');
    const after = (await b.get(`/v1/contacts/${ann.id}`)).json();
    expect(after).toMatchObject({
      name: 'Ann Smith',
      first_name: 'Ann',
      email: 'ann@example.com',
      phone: '+61293744000',
    });
    expect((await b.contactsWhere('q=eve'))[0]).toMatchObject({
      name: 'Eve Smith',
      email: 'smiths@example.com',
    });

    // Where numbers may be shared, the other people are contacts of their own, with their own names.
    await h.request({
      method: 'PATCH',
      url: '/v1/organisation',
      headers: b.auth,
      payload: { allow_duplicate_phones: true },
    });
    const shared = await b.importFile(csv, 'mode=upsert');
    expect(shared).toMatchObject({ created: 2, unchanged: 3, failed: 0 });
    const landline = (await b.contactsWhere('phone=0293744000')).map((c: { name: string }) => c.name).sort();
    expect(landline).toEqual(['Ann Smith', 'Bob Smith']);
    const mobile = (await b.contactsWhere('phone=0400100200')).map((c: { name: string }) => c.name).sort();
    expect(mobile).toEqual(['Carol Jones', 'Dan Jones']);
  });

  it('changes nothing when the same file is imported again, contacts with neither number nor email included', async () => {
    const csv =
      'Name,Company,Phone,Email,Notes\n' +
      'Only A Name,,,,\n' +
      'Only A Name,Acme,,,\n' + // the same name at another company: another person
      'Short Code,,112,,\n' +
      'Has Number,,+61 400 300 400,,a note\n' +
      'Has Email,,,has.email@example.com,\n';
    const first = await io.importFile(csv, 'mode=upsert&country=AU');
    expect(first).toMatchObject({ created: 5, failed: 0 });
    for (const mode of ['upsert', 'skip'] as const) {
      const again = await io.importFile(csv, `mode=${mode}&country=AU`);
      expect(again, mode).toMatchObject(
        mode === 'upsert' ? { created: 0, unchanged: 5 } : { created: 0, skipped: 5 },
      );
    }
    expect(await io.contactsWhere('q=only%20a%20name')).toHaveLength(2);
    expect(await io.contactsWhere('q=short%20code')).toHaveLength(1);
  });

  it('reads text in its encoding: a vCard CHARSET on any value, a legacy CSV found from its bytes or given, and says when it guessed', async () => {
    const sjis = (text: string) => iconv.encode(text, 'Shift_JIS');
    const vcf = Buffer.concat([
      Buffer.from('BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=SHIFT_JIS:'),
      sjis('山田;太郎'),
      Buffer.from('\r\nFN;CHARSET=SHIFT_JIS:'),
      sjis('山田 太郎'),
      Buffer.from(
        '\r\nTEL;CELL:090-1234-5678\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Zoë Ünicode\r\nNOTE:déjà vu\r\nEND:VCARD\r\n',
      ),
      Buffer.from('BEGIN:VCARD\r\nVERSION:2.1\r\nFN:'),
      sjis('鈴木 花子と申します、よろしくお願いします'),
      Buffer.from('\r\nTEL:03-1234-5678\r\nEND:VCARD\r\n'),
    ]);
    const cards = await io.importFile(vcf, 'country=JP', 'text/vcard');
    expect(cards).toMatchObject({ created: 3, failed: 0, warnings: { encoding_guessed: 1 } });
    expect((await io.contactsWhere('phone=%2B819012345678'))[0]).toMatchObject({
      name: '山田 太郎',
      first_name: '太郎',
      last_name: '山田',
    });
    expect((await io.contactsWhere('q=zoë'))[0]).toMatchObject({
      name: 'Zoë Ünicode',
      notes: 'déjà vu',
    });
    expect((await io.contactsWhere('phone=%2B81312345678'))[0].name).toBe(
      '鈴木 花子と申します、よろしくお願いします',
    );
    const guessed = await io.report(cards, 'warnings');
    expect(guessed[1]).toMatch(/^3,encoding_guessed,FN,.*read as Shift_JIS/);

    // As Japanese phones export: names with their readings (yomi) in katakana.
    const csv = sjis(
      [
        'Name,Name Yomi,Phone,Email',
        '佐藤 一郎,サトウ イチロウ,080-2222-3333,ichiro@example.com',
        '高橋 次郎,タカハシ ジロウ,080-2222-4444,',
        '田中 花子,タナカ ハナコ,080-2222-5555,',
      ].join('\r\n'),
    );
    const detected = await io.importFile(csv, 'country=JP', 'text/x-csv');
    expect(detected).toMatchObject({
      created: 3,
      encoding: { name: 'Shift_JIS', how: 'detected' },
      warnings: { encoding_guessed: 1 },
    });
    expect((await io.contactsWhere('phone=%2B818022223333'))[0]).toMatchObject({
      name: '佐藤 一郎',
      custom: { Name_Yomi: 'サトウ イチロウ' },
    });
    expect((await io.report(detected, 'warnings'))[1]).toMatch(/^0,encoding_guessed,file,Shift_JIS,/);

    const cyrillic = iconv.encode('Name,Phone\nИван Петров,+7 912 345 67 89\n', 'windows-1251');
    const given = await io.importFile(cyrillic, 'encoding=windows-1251', 'text/comma-separated-values');
    expect(given).toMatchObject({
      created: 1,
      encoding: { name: 'windows-1251', how: 'given' },
      warnings: {},
    });
    expect((await io.contactsWhere('phone=%2B79123456789'))[0].name).toBe('Иван Петров');
    const unknown = await h.request({
      method: 'POST',
      url: '/v1/imports?encoding=klingon-8',
      headers: { ...io.auth, 'content-type': 'text/csv' },
      payload: 'name\nX\n',
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0]).toMatchObject({ field: 'encoding' });
  });

  it('says when most local numbers of a file read better in another country, in a dry run as in the report', async () => {
    const indian = ['98765 43210', '91234 56789', '87654 32109', '99887 76655', '70123 45678', '81297 00200'];
    const csv = `Name,Phone\n${indian.map((n, i) => `Person ${i},${n}`).join('\n')}\n`;
    const dry = await io.importFile(csv, 'country=US&dry_run=true');
    expect(dry.country_hint).toMatchObject({ given: 'US', suggested: 'IN', sampled: 6, valid_suggested: 6 });
    const right = await io.importFile(csv, 'country=IN&dry_run=true');
    expect(right.country_hint).toBeNull();
  });

  it('removes an upload once its import has ended, whether it completed, failed or was rolled back', async () => {
    const completed = await io.importFile('name,phone\nUpload Gone,+61 400 900 900\n', '');
    expect(completed.status).toBe('completed');
    expect(readdirSync(h.importDirectory)).toEqual([]);
    const rolledBack = await io.post(`/v1/imports/${completed.id}/rollback`);
    expect(rolledBack.json().status).toBe('rolled_back');
    // A file that breaks the import midway (its header cannot be read) fails it, and goes too.
    const failed = await io.importFile(`"${'x'.repeat(70_000)}\n`, '');
    expect(failed.status).toBe('failed');
    expect(readdirSync(h.importDirectory)).toEqual([]);
  });

  it('puts contacts in the groups their rows name, and every export writes them so that a re-import gives them back', async () => {
    const b = importer(h, h.b);
    const vcf = [
      card('FN:Cat One', 'TEL:+1 202 555 0150', 'CATEGORIES:Choir,Sunday\\, early'),
      card('FN:Cat Two', 'EMAIL:cat2@example.com', 'CATEGORIES:Choir'),
    ].join('');
    const cards = await b.importFile(vcf, '', 'text/vcard');
    expect(cards).toMatchObject({ created: 2, failed: 0 });
    const google =
      'Name,Phone 1 - Value,Group Membership\n' +
      'Gee One,+1 202 555 0151,* myContacts ::: Choir ::: Staff\n' +
      'Cat One,+1 202 555 0150,* starred ::: Staff\n'; // already a member of Choir: joins Staff too
    expect(await b.importFile(google, 'group_name=Imported')).toMatchObject({ created: 1, unchanged: 1 });
    const groups = (await b.get('/v1/groups?limit=100')).json().items as {
      id: string;
      name: string;
      member_count: number;
    }[];
    const count = (name: string) => groups.find((g) => g.name === name)?.member_count;
    expect(groups.map((g) => g.name).sort()).toEqual(['Choir', 'Imported', 'Staff', 'Sunday, early']);
    expect([count('Choir'), count('Staff'), count('Sunday, early'), count('Imported')]).toEqual([3, 2, 1, 2]);

    for (const format of ['csv', 'jsonl', 'vcf'] as const) {
      const exported = (await b.get(`/v1/contacts/export?format=${format}`)).body;
      const type = { csv: 'text/csv', jsonl: 'application/x-ndjson', vcf: 'text/vcard' }[format];
      const fresh = await createHarness(dialect);
      try {
        const into = importer(fresh, fresh.b);
        // An empty organisation with the same settings (the earlier test's shared numbers included).
        const settings = (await b.get('/v1/organisation')).json();
        await fresh.request({
          method: 'PATCH',
          url: '/v1/organisation',
          headers: into.auth,
          payload: {
            default_country: settings.default_country,
            allow_duplicate_phones: settings.allow_duplicate_phones,
          },
        });
        const total = (await b.contactsWhere('')).length;
        expect(await into.importFile(exported, '', type)).toMatchObject({ created: total, failed: 0 });
        const memberships = async (io2: ReturnType<typeof importer>) => {
          const out: string[] = [];
          for (const g of (await io2.get('/v1/groups?limit=100')).json().items as {
            id: string;
            name: string;
          }[])
            for (const m of (await io2.get(`/v1/groups/${g.id}/members?limit=100`)).json().items as {
              name: string;
            }[])
              out.push(`${g.name}: ${m.name}`);
          return out.sort();
        };
        expect(await memberships(into), format).toEqual(await memberships(b));
      } finally {
        await fresh.close();
      }
    }
  });
});
