import { describe, expect, it } from 'vitest';
import {
  readContacts,
  type ImportFormat,
  type MappingOptions,
  type ReadRow,
} from '../src/domain/formats/index.js';
import { exportHeader, exportRow, type ExportFormat } from '../src/domain/formats/writers.js';

async function* bytes(...parts: (string | Buffer)[]): AsyncIterable<Buffer> {
  // One byte at a time for the first part: boundaries must not matter.
  for (const part of parts) {
    const buffer = Buffer.isBuffer(part) ? part : Buffer.from(part);
    for (let i = 0; i < buffer.length; i += 7) yield buffer.subarray(i, i + 7);
  }
}

async function read(
  format: ImportFormat,
  options: MappingOptions,
  ...parts: (string | Buffer)[]
): Promise<ReadRow[]> {
  const rows: ReadRow[] = [];
  for await (const row of readContacts(bytes(...parts), format, options)) rows.push(row);
  return rows;
}
const contacts = (rows: ReadRow[]) => rows.map((r) => ('contact' in r ? r.contact : { error: r.error }));

describe('CSV', () => {
  it('detects the delimiter, maps Outlook headers, keeps quoted newlines and extra columns as custom attributes', async () => {
    const rows = await read(
      'csv',
      {},
      'First Name;Last Name;Mobile Phone;E-mail Address;Notes\r\nAda;Lovelace;0412 345 678;ada@x.com;"multi\nline; note"\r\n',
    );
    expect(contacts(rows)).toEqual([
      {
        first_name: 'Ada',
        last_name: 'Lovelace',
        phone: '0412 345 678',
        email: 'ada@x.com',
        custom: { Notes: 'multi\nline; note' },
      },
    ]);
    expect(rows[0]!.row).toBe(1);
  });

  it('maps Google Contacts columns, taking the first of several numbers', async () => {
    const rows = await read(
      'csv',
      {},
      'Given Name,Family Name,Phone 1 - Label,Phone 1 - Value,E-mail 1 - Value,Organization 1 - Name\n',
      'Grace,Hopper,Mobile,+1 202 555 0101 ::: +1 202 555 0102,grace@navy.mil,US Navy\n',
    );
    expect(contacts(rows)).toEqual([
      {
        first_name: 'Grace',
        last_name: 'Hopper',
        phone: '+1 202 555 0101',
        email: 'grace@navy.mil',
        company: 'US Navy',
        custom: { 'Phone_1_-_Label': 'Mobile' },
      },
    ]);
  });

  it('reads UTF-16 as Excel saves it, and a UTF-8 BOM', async () => {
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('Name\tPhone\nZoë Ødegaard\t+61 400 000 000\n', 'utf16le'),
    ]);
    expect(contacts(await read('csv', {}, utf16))).toEqual([
      { name: 'Zoë Ødegaard', phone: '+61 400 000 000' },
    ]);
    expect(contacts(await read('csv', {}, Buffer.from([0xef, 0xbb, 0xbf]), 'email\nz@x.com\n'))).toEqual([
      { email: 'z@x.com' },
    ]);
  });

  it('applies explicit mappings and drops unmapped columns when asked', async () => {
    const rows = await read(
      'csv',
      { mapping: { Cell: 'phone', Tier: 'custom:tier', Skip: 'ignore' }, unmapped: 'drop' },
      'Cell,Tier,Skip,Other\n0412,gold,x,y\n',
    );
    expect(contacts(rows)).toEqual([{ phone: '0412', custom: { tier: 'gold' } }]);
  });

  it('reads long records, and stops with one clear row error at a record over the limit', async () => {
    const long = await read('csv', {}, 'name,notes\n', `Long,"${'x'.repeat(100_000)}"\n`, 'Next,n\n');
    expect(contacts(long).map((c) => ('name' in c ? c.name : c))).toEqual(['Long', 'Next']);
    const huge = await read(
      'csv',
      {},
      'name,phone\n',
      'First,1\n',
      `"${'x'.repeat(300_000)}",1\n`,
      'Next,0412\n',
    );
    expect(contacts(huge)[0]).toEqual({ name: 'First', phone: '1' });
    expect(huge.filter((r) => 'error' in r).map((r) => 'error' in r && r.error)).toEqual([
      expect.stringContaining('rest of the file was not read'),
    ]);
  });
});

describe('vCard', () => {
  it('reads many 3.0 and 2.1 cards with folding, groups and quoted-printable, preferring the mobile number', async () => {
    const file =
      'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nN:Lovelace;Ada;;;\r\nTEL;TYPE=HOME:02 9999 0000\r\nitem1.TEL;TYPE=CELL:0412 345 678\r\nEMAIL;TYPE=INTERNET:ada@x.com\r\nORG:Analytical\\, Engines;R&D\r\nNOTE:long\r\n  folded\r\nEND:VCARD\r\n' +
      'BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen\r\nTEL;CELL:+49 30 1234567\r\nEND:VCARD\r\n' +
      'BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Alan\r\nTEL;VALUE=uri;TYPE=cell:tel:+44-20-7946-0958\r\nEND:VCARD\r\n';
    expect(contacts(await read('vcf', {}, file))).toEqual([
      {
        first_name: 'Ada',
        last_name: 'Lovelace',
        phone: '0412 345 678',
        email: 'ada@x.com',
        company: 'Analytical, Engines',
        custom: { phone_2: '02 9999 0000' },
      },
      { first_name: 'Jürgen', last_name: 'Müller', phone: '+49 30 1234567' },
      { name: 'Alan', phone: '+44-20-7946-0958' },
    ]);
  });

  it('reports a card that never ends', async () => {
    const rows = await read('vcf', {}, 'BEGIN:VCARD\nFN:Half\n');
    expect(rows).toEqual([{ row: 1, raw: 'BEGIN:VCARD\nFN:Half', error: 'the last card has no END:VCARD' }]);
  });
});

describe('JSON Lines', () => {
  it('maps keys like headers, keeps custom objects and reports bad lines', async () => {
    const rows = await read(
      'jsonl',
      {},
      '{"name":"A","mobile":"0412","custom":{"tier":"gold"}}\nnot json\n\n[1]\n{"email":"b@x.com"}',
    );
    expect(contacts(rows)).toEqual([
      { name: 'A', phone: '0412', custom: { tier: 'gold' } },
      { error: 'not valid JSON' },
      { error: 'not a JSON object' },
      { email: 'b@x.com' },
    ]);
    expect(rows.map((r) => r.row)).toEqual([1, 2, 3, 4]);
  });
});

describe('export writers', () => {
  const contact = {
    id: '01a20000-0000-7000-8000-000000000001',
    name: 'Ada Lovelace',
    first_name: 'Ada',
    middle_name: null,
    last_name: 'Lovelace',
    company: '=HYPERLINK("http://evil")',
    phone: '+61412345678',
    email: 'ada@x.com',
    channel: 'sms' as const,
    language: null,
    avatar_url: null,
    custom: { tier: '@gold', points: 3 },
  };

  it('escapes cells that a spreadsheet would run as formulas, but not E.164 phone numbers', async () => {
    const csv = exportHeader('csv') + exportRow('csv', contact);
    expect(csv).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(csv).toContain('@gold');
    expect(csv).toContain(',+61412345678,');
  });

  it.each(['csv', 'jsonl', 'vcf'] as ExportFormat[])('round-trips %s through the reader', async (format) => {
    const text = exportHeader(format) + exportRow(format, { ...contact, company: 'Engines, Inc.' });
    const [row] = await read(format, {}, text);
    expect('contact' in row! && row.contact).toMatchObject({
      first_name: 'Ada',
      last_name: 'Lovelace',
      phone: '+61412345678',
      email: 'ada@x.com',
      company: 'Engines, Inc.',
    });
    expect('contact' in row! && row.contact.custom).toMatchObject({ tier: '@gold' });
  });
});
