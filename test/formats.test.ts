import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { displayName, type ContactInput } from '../src/domain/contact.js';
import { DomainError } from '../src/domain/errors.js';
import { readCsv } from '../src/domain/formats/csv-reader.js';
import { formatOf, sniffFormat } from '../src/domain/formats/detect.js';
import { decodeText } from '../src/domain/formats/encoding.js';
import {
  readContacts,
  type ImportedContact,
  type ReadOptions,
  type ReadRow,
} from '../src/domain/formats/index.js';
import { anyContact, comparable, emailEntries, phoneEntries } from './support/contact-arbitrary.js';
import { customKeyOf } from '../src/domain/formats/mapping.js';
import {
  exportHeader,
  exportRow,
  type ExportedContact,
  type ExportFormat,
} from '../src/domain/formats/writers.js';

/** The bytes in chunks of `size`: no boundary (inside a BOM, a UTF-8 character, a quoted field) may matter. */
async function* chunked(data: string | Buffer, size = 7): AsyncIterable<Buffer> {
  const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data);
  for (let i = 0; i < buffer.length; i += size) yield buffer.subarray(i, i + size);
}

async function* textChunks(text: string, size: number): AsyncIterable<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const read = (data: string | Buffer, options: ReadOptions = {}, size = 7) =>
  collect(readContacts(chunked(data, size), options));

/** Each row's contact, or its error as `{ error }`. */
const contacts = (rows: ReadRow[]) => rows.map((r) => ('contact' in r ? r.contact : { error: r.error }));

const csv = (text: string, options: ReadOptions = {}) => read(text, { format: 'csv', ...options });

describe('format detection and decoding', () => {
  it('tells the format by content type, then file name, then the first characters', async () => {
    expect(formatOf('text/csv; charset=utf-8')).toBe('csv');
    expect(formatOf('text/x-vcard', 'ignored.csv')).toBe('vcf');
    expect(formatOf('application/octet-stream', 'people.NDJSON')).toBe('jsonl');
    expect(formatOf('application/octet-stream', 'people.xlsx')).toBeUndefined();
    expect(sniffFormat('\r\n  begin:vcard\r\n')).toBe('vcf');
    expect(sniffFormat('{"name":"A"}')).toBe('jsonl');
    expect(sniffFormat('name,phone')).toBe('csv');
    const sniffed = await read('\n\nBEGIN:VCARD\nFN:Sniffed\nEND:VCARD\n', {
      contentType: 'application/octet-stream',
    });
    expect(contacts(sniffed)).toEqual([{ name: 'Sniffed' }]);
    const given = await collect(
      readContacts(chunked('name\nGiven\n'), 'jsonl', { mapping: { name: 'ignore' } }),
    );
    expect(contacts(given)).toEqual([{ error: 'not valid JSON' }, { error: 'not valid JSON' }]);
  });

  const decode = async (data: Buffer, size: number) =>
    (await collect(decodeText(chunked(data, size)))).join('');

  it('drops a UTF-8 byte-order mark even when it arrives a byte at a time', async () => {
    const data = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Zoë,Ødegaard')]);
    expect(await decode(data, 1)).toBe('Zoë,Ødegaard');
  });

  it('reads UTF-16 little- and big-endian by their byte-order marks', async () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Zoë\t😀', 'utf16le')]);
    expect(await decode(le, 3)).toBe('Zoë\t😀');
    const be = Buffer.from('Zoë\t😀', 'utf16le').swap16();
    expect(await decode(Buffer.concat([Buffer.from([0xfe, 0xff]), be]), 1)).toBe('Zoë\t😀');
  });

  it('reads a file that is not UTF-8 as Windows-1252, as Excel saves a plain CSV', async () => {
    const data = Buffer.concat([Buffer.from('name\nAda\n'), Buffer.from([0x5a, 0x6f, 0xeb, 0x20, 0x80])]);
    expect(await decode(data, 4)).toBe('name\nAda\nZoë €');
    // A UTF-8 character split across chunks stays one character.
    expect(await decode(Buffer.from('Zoë Ødegaard'), 3)).toBe('Zoë Ødegaard');
  });
});

describe('CSV', () => {
  it.each([
    ['comma', ','],
    ['semicolon', ';'],
    ['tab', '\t'],
  ])('reads the %s delimiter off the header', async (_, d) => {
    const text = `name${d}phone${d}email\r\nAda Lovelace${d}0412 345 678${d}ada@x.com\r\n"Hopper${d} Grace"${d}${d}grace@x.com\r\n`;
    expect(contacts(await csv(text))).toEqual([
      { name: 'Ada Lovelace', phone: '0412 345 678', email: 'ada@x.com' },
      { name: `Hopper${d} Grace`, email: 'grace@x.com' },
    ]);
  });

  it('reads UTF-16LE tab-separated text as Excel saves "Unicode Text", and a UTF-8 BOM', async () => {
    const text = 'First Name\tLast Name\tMobile Phone\r\nZoë\tØdegaard\t+47 412 34 567\r\n';
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const expected = [
      {
        first_name: 'Zoë',
        last_name: 'Ødegaard',
        phones: [{ number: '+47 412 34 567', label: 'mobile' }],
      },
    ];
    expect(contacts(await read(utf16, {}, 5))).toEqual(expected);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    expect(contacts(await read(bom, { filename: 'export.txt' }, 1))).toEqual(expected);
  });

  it('maps an Outlook export: every number with its kind, the mobile one primary, title, department, address, notes', async () => {
    const header =
      '"Title","First Name","Middle Name","Last Name","Suffix","Company","Department","Job Title","Business Street","Business Phone","Business Phone 2","Home Phone","Mobile Phone","E-mail Address","E-mail Type","E-mail Display Name","E-mail 2 Address","Notes"';
    const row =
      '"Dr.","Ada","King","Lovelace","","Analytical Engines","R&D","Countess","12 St James\'s Square","+44 20 7946 0000","","","+44 7700 900123","ada@engines.example","SMTP","Ada Lovelace (ada@engines.example)","ada@home.example","Met at ""the"" salon"';
    expect(contacts(await csv(`${header}\r\n${row}\r\n`))).toEqual([
      {
        first_name: 'Ada',
        middle_name: 'King',
        last_name: 'Lovelace',
        company: 'Analytical Engines',
        department: 'R&D',
        title: 'Countess',
        phones: [
          { number: '+44 7700 900123', label: 'mobile' },
          { number: '+44 20 7946 0000', label: 'work' },
        ],
        emails: [{ address: 'ada@engines.example' }, { address: 'ada@home.example' }],
        addresses: [{ label: 'work', street: "12 St James's Square" }],
        notes: 'Met at "the" salon',
        // Outlook's "Title" beside its "Job Title" is a name prefix.
        custom: {
          Title: 'Dr.',
          'E-mail_Type': 'SMTP',
          'E-mail_Display_Name': 'Ada Lovelace (ada@engines.example)',
        },
      },
    ]);
  });

  it('maps a Google Contacts export (the older columns): every number of a " ::: " cell with its type, the mobile one primary', async () => {
    const file =
      'Name,Given Name,Additional Name,Family Name,Name Prefix,Birthday,Notes,Language,Group Membership,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value,Organization 1 - Type,Organization 1 - Name\n' +
      'Grace Hopper,Grace,Brewster,Hopper,Rear Admiral,1906-12-09,,en,* myContacts ::: Navy ::: Choir,* Work,grace@navy.example ::: grace@home.example,Home,+1 202 555 0100,Mobile,+1 202 555 0101 ::: +1 202 555 0102,,US Navy\n' +
      'Alan Turing,Alan,,Turing,,,,,* myContacts,,,Work,+44 20 7946 0958,,,,\n';
    expect(contacts(await csv(file))).toEqual([
      {
        name: 'Grace Hopper',
        first_name: 'Grace',
        middle_name: 'Brewster',
        last_name: 'Hopper',
        company: 'US Navy',
        phones: [
          { number: '+1 202 555 0101', label: 'mobile' },
          { number: '+1 202 555 0100', label: 'home' },
          { number: '+1 202 555 0102', label: 'mobile' },
        ],
        // "* Work": Google marks the primary one.
        emails: [
          { address: 'grace@navy.example', label: 'work' },
          { address: 'grace@home.example', label: 'work' },
        ],
        dates: [{ label: 'birthday', date: '1906-12-09' }],
        language: 'en',
        // Google's own system groups ("* myContacts") are not groups of the contact's.
        groups: ['Navy', 'Choir'],
        custom: { Name_Prefix: 'Rear Admiral' },
      },
      {
        first_name: 'Alan',
        last_name: 'Turing',
        phones: [{ number: '+44 20 7946 0958', label: 'work' }],
      },
    ]);
  });

  it('maps a Google Contacts export (the newer columns)', async () => {
    const file =
      'First Name,Middle Name,Last Name,Nickname,Organization Name,Organization Title,Labels,E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value\n' +
      'Katherine,,Johnson,Katie,NASA,Mathematician,* myContacts ::: Family,* Home,kj@nasa.example,Mobile,+1 757 555 0199\n';
    expect(contacts(await csv(file, { unmapped: 'drop' }))).toEqual([
      {
        first_name: 'Katherine',
        last_name: 'Johnson',
        company: 'NASA',
        title: 'Mathematician',
        nickname: 'Katie',
        emails: [{ address: 'kj@nasa.example', label: 'home' }],
        phones: [{ number: '+1 757 555 0199', label: 'mobile' }],
        groups: ['Family'],
      },
    ]);
    const outlook = 'First Name,Categories\nKatherine,NASA;Family;\n';
    expect(contacts(await csv(outlook))).toEqual([{ first_name: 'Katherine', groups: ['NASA', 'Family'] }]);
  });

  it('keeps quoted delimiters, quotes and line breaks, and numbers rows and lines', async () => {
    const rows = await csv(
      'name,notes\r\n"Lovelace, Ada","first line\r\nsecond ""quoted"" line"\r\nBabbage,5\'11" tall\r\n',
    );
    expect(contacts(rows)).toEqual([
      { name: 'Lovelace, Ada', notes: 'first line\r\nsecond "quoted" line' },
      { name: 'Babbage', notes: '5\'11" tall' },
    ]);
    expect(rows.map((r) => [r.row, r.line])).toEqual([
      [1, 2],
      [2, 4],
    ]);
    expect(rows[0]!.raw).toBe('"Lovelace, Ada","first line\r\nsecond ""quoted"" line"');
  });

  it('reads a short row as empty to the end, and reports long rows and an unclosed quote as row errors, reading on', async () => {
    const rows = await csv(
      'name,phone,email\nShort,0412\nLong,0412,a@x.com,extra\nGood,0413,\n"Open,0414,\n',
    );
    expect(contacts(rows)).toEqual([
      { name: 'Short', phone: '0412' },
      { error: '4 fields where the header has 3' },
      { name: 'Good', phone: '0413' },
      { error: 'a quoted field is never closed' },
    ]);
    expect(rows[0]).toMatchObject({ row: 1, line: 2, raw: 'Short,0412' });
  });

  it('makes a record over 64 KiB a row error and reads the rows after it', async () => {
    const huge = 'x'.repeat(100_000);
    const rows = await csv(`name,phone\nFirst,1\n${huge},2\n"${huge}\n${huge}",3\nNext,0412\n`);
    expect(contacts(rows)).toEqual([
      { name: 'First', phone: '1' },
      { error: 'the record is longer than 64 KiB (100002 characters)' },
      { error: 'the record is longer than 64 KiB (200005 characters)' },
      { name: 'Next', phone: '0412' },
    ]);
    expect(rows.map((r) => [r.row, r.line])).toEqual([
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 6],
    ]);
  });

  it('skips blank rows and the empty rows spreadsheets leave, counting them', async () => {
    const rows = await csv('name,phone\n\nAda,1\n,\n , \nGrace,2');
    expect(rows.map((r) => [r.row, 'contact' in r && r.contact.name])).toEqual([
      [2, 'Ada'],
      [5, 'Grace'],
    ]);
  });

  it('reads CR line ends, as old Mac Excel writes them', async () => {
    expect(contacts(await csv('name,phone\rAda,1\r"Grace\rHopper",2\r'))).toEqual([
      { name: 'Ada', phone: '1' },
      { name: 'Grace\rHopper', phone: '2' },
    ]);
  });

  it('refuses a header it cannot read', async () => {
    await expect(csv(`"${'x'.repeat(70_000)}",phone\nAda,1\n`)).rejects.toThrow(
      'the header row cannot be read: the record is longer than 64 KiB',
    );
  });

  it('reads any text as csv-parse reads it whole, however it is chunked', async () => {
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const pieces = ['a', 'b', ' ', ',', '"', '"', '\n', '\r\n', 'é', '\r'];
    for (let t = 0; t < 2000; t++) {
      const text =
        'h1,h2\n' + Array.from({ length: random(30) }, () => pieces[random(pieces.length)]).join('');
      let whole: string[][];
      try {
        whole = parse(text, {
          relax_quotes: true,
          relax_column_count: true,
          record_delimiter: ['\r\n', '\n'],
        });
      } catch {
        continue; // an unclosed quote: a row error here, covered above
      }
      const expected = whole
        .slice(1)
        .filter((cells) => cells.some((cell) => cell.trim() !== ''))
        .map((cells) => (cells.length === 1 ? [...cells, ''] : cells.length === 2 ? cells : 'error'));
      const rows = await collect(readCsv(textChunks(text, 1 + random(9))));
      expect(
        rows.map((r) => ('record' in r ? Object.values(r.record) : 'error')),
        JSON.stringify(text),
      ).toEqual(expected);
    }
  });
});

describe('mapping', () => {
  it('lets an explicit mapping override the automatic one, matching headers loosely', async () => {
    const rows = await csv('Cell,Phone,Tier,Skip,Legacy ID,CRM,Other\n0412,0299,gold,x,L-1,C-9,y\n', {
      mapping: {
        cell: 'phone',
        Tier: 'custom:tier',
        Skip: 'ignore',
        'legacy id': 'external_id',
        CRM: 'external_id:crm',
      },
    });
    // The explicitly mapped number is the primary one; the other number is kept too.
    expect(contacts(rows)).toEqual([
      {
        phones: [{ number: '0412' }, { number: '0299' }],
        external_id: 'L-1',
        external_ids: { crm: 'C-9' },
        custom: { tier: 'gold', Other: 'y' },
      },
    ]);
  });

  it('drops unmapped columns, and text columns that lose to another for a field, when asked', async () => {
    const rows = await csv('Home Phone,Mobile,Tier,Name,Full Name\n0299,0412,gold,A B,C D\n', {
      unmapped: 'drop',
    });
    expect(contacts(rows)).toEqual([
      {
        name: 'A B',
        phones: [
          { number: '0412', label: 'mobile' },
          { number: '0299', label: 'home' },
        ],
      },
    ]);
  });

  it('refuses a mapping to nothing before reading a row', () => {
    expect(() => readContacts(chunked('a\n1\n'), { mapping: { a: 'nick_name' as never } })).toThrow(
      DomainError,
    );
    expect(() => readContacts(chunked('a\n1\n'), { mapping: { a: 'custom:bad key' } })).toThrow(
      'mapping.a: must be one of',
    );
  });

  it('keeps a name only when the other fields would not display it anyway', async () => {
    const rows = await csv(
      'name,first name,last name,company,channel\nAda Lovelace,Ada,Lovelace,,SMS\nThe Countess,Ada,Lovelace,,\nAcme,,,Acme,WhatsApp\n',
    );
    expect(contacts(rows)).toEqual([
      { first_name: 'Ada', last_name: 'Lovelace', channel: 'sms' },
      { name: 'The Countess', first_name: 'Ada', last_name: 'Lovelace' },
      { company: 'Acme', channel: 'whatsapp' },
    ]);
  });

  it('makes custom attribute keys of any header', () => {
    expect(customKeyOf(' Téléphone (2) ')).toBe('Telephone_2');
    expect(customKeyOf('_private.key-1')).toBe('_private.key-1');
    expect(customKeyOf('电话')).toBe('u7535_8bdd');
    expect(customKeyOf('x'.repeat(100))).toHaveLength(64);
  });
});

describe('vCard', () => {
  it('reads vCard 3.0 cards: folding, groups, escapes, the mobile number first', async () => {
    const file = [
      'BEGIN:VCARD',
      'VERSION:3.0',
      'PRODID:-//Apple Inc.//iPhone OS 17.0//EN',
      'N:Lovelace;Ada;King;Countess;',
      'FN:Ada King Lovelace',
      'ORG:Analytical\\; Engines\\, Ltd;R&D',
      'EMAIL;type=INTERNET;type=HOME;type=pref:ada@home.example',
      'EMAIL;type=INTERNET;type=WORK:ada@work.example',
      'TEL;type=HOME;type=VOICE:02 9999 0000',
      'item1.TEL;type=CELL;type=VOICE:0412 345 678',
      'item1.X-ABLabel:_$!<Mobile>!$_',
      'NOTE:Line one\\nline two\\, with a very long tail that an exporter folds onto the ne',
      ' xt line',
      'PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD',
      ' ' + 'A'.repeat(74),
      'END:VCARD',
      'BEGIN:VCARD',
      'VERSION:3.0',
      'FN:Alan Turing',
      'TEL:+44 20 7946 0958',
      'END:VCARD',
    ].join('\r\n');
    const rows = await read(file, { format: 'vcf' });
    expect(contacts(rows)).toEqual([
      {
        first_name: 'Ada',
        middle_name: 'King',
        last_name: 'Lovelace',
        company: 'Analytical; Engines, Ltd',
        department: 'R&D',
        // The X-ABLabel of its group labels the mobile number, the primary one; TYPE=pref makes the home address primary.
        phones: [
          { number: '0412 345 678', label: 'mobile' },
          { number: '02 9999 0000', label: 'home' },
        ],
        emails: [
          { address: 'ada@home.example', label: 'home' },
          { address: 'ada@work.example', label: 'work' },
        ],
        notes: 'Line one\nline two, with a very long tail that an exporter folds onto the next line',
        custom: { name_prefix: 'Countess' },
      },
      { name: 'Alan Turing', phone: '+44 20 7946 0958' },
    ]);
    expect(rows.map((r) => [r.row, r.line])).toEqual([
      [1, 1],
      [2, 17],
    ]);
    expect(rows[0]!.raw).not.toContain('/9j/');
  });

  it('reads vCard 2.1 quoted-printable as old Android phones export it', async () => {
    const file =
      'BEGIN:VCARD\r\nVERSION:2.1\r\n' +
      'N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\r\n' +
      'FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=BCrgen M=C3=BC=\r\nller\r\n' +
      'NOTE;ENCODING=QUOTED-PRINTABLE:Zeile 1=0D=0AZeile 2\r\n' +
      'TEL;HOME:030 1234567\r\n' +
      'TEL;CELL;PREF:+49 151 12345678\r\n' +
      'ORG;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Stra=DFenbau GmbH\r\n' +
      'END:VCARD\r\n';
    expect(contacts(await read(file, { format: 'vcf' }, 3))).toEqual([
      {
        first_name: 'Jürgen',
        last_name: 'Müller',
        company: 'Straßenbau GmbH',
        phones: [
          { number: '+49 151 12345678', label: 'mobile' },
          { number: '030 1234567', label: 'home' },
        ],
        notes: 'Zeile 1\r\nZeile 2',
      },
    ]);
  });

  it('reads vCard 4.0: URI numbers, quoted type lists, language and a photo URL', async () => {
    const file = [
      'BEGIN:VCARD',
      'VERSION:4.0',
      'FN:Grace Hopper',
      'N:Hopper;Grace;;;',
      'TEL;VALUE=uri;TYPE="voice,home":tel:+1-202-555-0100',
      'TEL;VALUE=uri;TYPE="voice,cell";PREF=1:tel:+1-202-555-0101',
      'LANG;PREF=1:en-US',
      'PHOTO:https://example.com/grace.jpg',
      'END:VCARD',
    ].join('\n');
    expect(contacts(await read(file, { filename: 'grace.vcf' }))).toEqual([
      {
        first_name: 'Grace',
        last_name: 'Hopper',
        phones: [
          { number: '+1-202-555-0101', label: 'mobile' },
          { number: '+1-202-555-0100', label: 'home' },
        ],
        language: 'en-US',
        avatar_url: 'https://example.com/grace.jpg',
      },
    ]);
  });

  it('reports a card never ended, and one too long, and reads on', async () => {
    const long = `NOTE:${'x'.repeat(70_000)}`;
    const rows = await read(
      `BEGIN:VCARD\nFN:Half\nBEGIN:VCARD\n${long}\nEND:VCARD\nBEGIN:VCARD\nFN:Whole\nEND:VCARD\nBEGIN:VCARD\nFN:Cut`,
      { format: 'vcf' },
    );
    expect(rows).toEqual([
      { row: 1, line: 1, raw: 'BEGIN:VCARD\nFN:Half', error: 'the card has no END:VCARD' },
      { row: 2, line: 3, raw: '', error: 'the card is longer than 64 KiB' },
      { row: 3, line: 6, raw: 'BEGIN:VCARD\nFN:Whole\nEND:VCARD', contact: { name: 'Whole' } },
      { row: 4, line: 9, raw: 'BEGIN:VCARD\nFN:Cut', error: 'the card has no END:VCARD' },
    ]);
  });
});

describe('JSON Lines', () => {
  it('maps keys like headers, flattens custom objects, and reports bad lines by their line', async () => {
    const rows = await read(
      '{"name":"A","mobile":"0412","custom":{"tier":"gold","points":3,"vip":true},"groups":["x"]}\n' +
        'not json\n\n[1]\n' +
        `{"notes":"${'x'.repeat(70_000)}"}\n` +
        '{"Email Address":"b@x.com","external_ids":{"crm":"C-1"},"age":null}',
      { format: 'jsonl' },
    );
    expect(contacts(rows)).toEqual([
      {
        name: 'A',
        phones: [{ number: '0412', label: 'mobile' }],
        custom: { tier: 'gold', points: 3, vip: true },
        groups: ['x'],
      },
      { error: 'not valid JSON' },
      { error: 'not a JSON object' },
      { error: 'the line is longer than 64 KiB (70012 characters)' },
      { email: 'b@x.com', external_ids: { crm: 'C-1' } },
    ]);
    expect(rows.map((r) => r.row)).toEqual([1, 2, 4, 5, 6]);
  });
});

const ada: ExportedContact = {
  id: '01a20000-0000-7000-8000-000000000001',
  name: 'Ada Lovelace',
  first_name: 'Ada',
  middle_name: null,
  last_name: 'Lovelace',
  company: '=HYPERLINK("http://evil.example","click")',
  phone: '+61412345678',
  email: 'ada@x.com',
  channel: 'sms',
  language: null,
  avatar_url: null,
  title: null,
  department: null,
  nickname: null,
  notes: null,
  phones: [{ number: '+61412345678', raw: '0412 345 678', valid: true, label: null, primary: true }],
  emails: [{ address: 'ada@x.com', label: null, primary: true }],
  addresses: [],
  dates: [],
  urls: [],
  custom: {
    tier: '@gold',
    sum: "-1+cmd|' /C calc'!A0",
    debt: '-5',
    landline: '+61 (02) 9999-0000',
    tab: '\tx',
    quoted: 'say "hi", then\nleave',
    points: 3,
  },
  external_ids: { crm: 'C-1' },
  groups: [],
};

describe('export writers', () => {
  const customKeys = ['tier', 'sum', 'debt', 'landline', 'tab', 'quoted'];

  it('writes the CSV header the importer maps, with a byte-order mark for Excel when asked', () => {
    expect(exportHeader('csv')).toBe(
      'id,name,first_name,middle_name,last_name,company,phone,email,channel,language,avatar_url,' +
        'title,department,nickname,notes,phones,emails,addresses,dates,urls,custom,groups\r\n',
    );
    expect(exportHeader('csv', true)).toBe('\uFEFF' + exportHeader('csv'));
    expect(exportHeader('csv', false, ['tier'])).toContain(',urls,custom.tier,custom,groups\r\n');
    expect(exportHeader('vcf', true)).toBe('');
    expect(exportHeader('jsonl', true)).toBe('');
  });

  it('escapes CSV cells a spreadsheet would run as formulas, but not phone numbers', () => {
    const text = exportHeader('csv', false, customKeys) + exportRow('csv', ada, customKeys);
    const [header, cells] = parse(text) as string[][];
    const cell = (column: string) => cells![header!.indexOf(column)];
    expect(cell('company')).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(cell('custom.tier')).toBe("'@gold");
    expect(cell('custom.sum')).toBe("'-1+cmd|' /C calc'!A0");
    expect(cell('custom.tab')).toBe("'\tx");
    expect(cell('phone')).toBe('+61412345678');
    expect(cell('custom.debt')).toBe('-5');
    expect(cell('custom.landline')).toBe('+61 (02) 9999-0000');
    expect(cell('custom.quoted')).toBe('say "hi", then\nleave');
    // The keys not given a column of their own keep their types in the JSON one.
    expect(cell('custom')).toBe('{"points":3}');
    expect(text).toContain(`,"'=HYPERLINK(""http://evil.example"",""click"")",+61412345678,`);
  });

  it('writes vCard 4.0 with escaped text, tel: URIs and lines folded at 75 octets', () => {
    const card = exportRow('vcf', {
      ...ada,
      company: 'Engines; Analytical, Ltd',
      custom: { note: 'Zoë '.repeat(30) },
      groups: ['Choir', 'Staff, senior'],
    });
    const lines = card.split('\r\n');
    expect(lines.slice(0, 5)).toEqual([
      'BEGIN:VCARD',
      'VERSION:4.0',
      'FN:Ada Lovelace',
      'N:Lovelace;Ada;;;',
      'TEL;VALUE=uri:tel:+61412345678',
    ]);
    expect(lines).toContain('ORG:Engines\\; Analytical\\, Ltd');
    expect(lines).toContain('CATEGORIES:Choir,Staff\\, senior');
    expect(lines).toContain('X-ROSTER-EXTERNAL-ID;KEY=crm:C-1');
    expect(lines.every((line) => Buffer.byteLength(line) <= 75)).toBe(true);
    expect(lines.filter((line) => line.startsWith(' ')).length).toBeGreaterThan(0);
    // A number kept unread is written as text; labels as TYPEs, or Apple's X-ABLabel; PREF=1 on the primary one.
    const unread = { number: null, raw: '0412 345 678', valid: false, label: 'mobile', primary: true };
    const work = {
      number: '+61299990000',
      raw: '02 9999 0000',
      valid: true,
      label: 'Grandma; "old"',
      primary: false,
    };
    const labelled = exportRow('vcf', { ...ada, phones: [unread, work] }).split('\r\n');
    expect(labelled).toContain('TEL;TYPE=cell;PREF=1:0412 345 678');
    expect(labelled).toContain('item1.TEL;VALUE=uri:tel:+61299990000');
    expect(labelled).toContain('item1.X-ABLabel:Grandma\\; "old"');
    const rich = exportRow('vcf', {
      ...ada,
      department: 'R&D',
      title: 'Countess',
      addresses: [{ label: 'home', street: "12 St James's Square\nFlat 2", locality: 'London' }],
      dates: [
        { label: 'birthday', date: '--12-10' },
        { label: 'anniversary', date: '1835-07-08' },
        { label: 'Name day', date: '--07-26' },
      ],
      urls: [{ url: 'https://ada.example', label: 'Blog' }],
      notes: 'Two\nlines; a, b',
    }).split('\r\n');
    expect(rich).toEqual(
      expect.arrayContaining([
        'ORG:=HYPERLINK("http://evil.example"\\,"click");R&D',
        'TITLE:Countess',
        "ADR;TYPE=home:;;12 St James's Square\\nFlat 2;London;;;",
        'BDAY:--1210',
        'ANNIVERSARY:18350708',
        'item1.X-ABDATE:--07-26',
        'item1.X-ABLabel:Name day',
        'item2.URL:https://ada.example',
        'item2.X-ABLabel:Blog',
        'NOTE:Two\\nlines\\; a\\, b',
      ]),
    );
  });
});

/** What the contacts service would export for an input: a number not in E.164 stands for one an import kept unread. */
function exportedOf(input: ContactInput, id: string, groups: string[]): ExportedContact {
  const phones = phoneEntries(input).map(({ number, label }, i) => ({
    number: number.startsWith('+') ? number : null,
    raw: number,
    valid: number.startsWith('+'),
    label,
    primary: i === 0,
  }));
  const emails = emailEntries(input).map((e, i) => ({ ...e, primary: i === 0 }));
  return {
    id,
    name: displayName(input),
    first_name: input.first_name ?? null,
    middle_name: input.middle_name ?? null,
    last_name: input.last_name ?? null,
    company: input.company ?? null,
    phone: phones[0]?.number ?? null,
    email: emails[0]?.address ?? null,
    channel: input.channel ?? null,
    language: input.language ?? null,
    avatar_url: input.avatar_url ?? null,
    title: input.title ?? null,
    department: input.department ?? null,
    nickname: input.nickname ?? null,
    notes: input.notes ?? null,
    phones,
    emails,
    addresses: input.addresses ?? [],
    dates: input.dates ?? [],
    urls: input.urls ?? [],
    custom: input.custom ?? {},
    external_ids: input.external_ids ?? {},
    groups,
  };
}

describe('export then import', () => {
  const inputs: ContactInput[] = [
    {
      first_name: 'Ada',
      middle_name: 'King',
      last_name: 'Lovelace',
      company: 'Engines; "Analytical", Ltd',
      phone: '+61412345678',
      email: 'ada@x.com',
      channel: 'whatsapp',
      language: 'en-AU',
      avatar_url: 'https://example.com/ada.png',
      custom: { tier: '=gold', note: 'two\nlines, commas; semis \\ and a backslash', points: 3, vip: true },
      external_ids: { crm: 'C-1' },
    },
    { name: 'The Countess', first_name: 'Ada', last_name: 'Lovelace' },
    { company: 'Acme Pty Ltd' },
    { phone: '+442079460958' },
    { name: 'Zoë Ødegaard 😀', email: 'zoe@x.com', custom: { long: 'ø'.repeat(300) } },
  ];
  const id = (i: number) => `01a20000-0000-7000-8000-00000000000${i}`;
  /** What the contacts service would export for an input. */
  const exported = (input: ContactInput, i: number): ExportedContact =>
    exportedOf(input, id(i), i % 2 === 0 ? ['Choir', 'Staff; senior, "A"'] : []);

  it.each([
    ['csv', []],
    ['csv', ['tier', 'note', 'long']],
    ['jsonl', []],
    ['vcf', []],
  ] as [ExportFormat, string[]][])(
    'gives back the same contacts through %s (custom columns: %j)',
    async (format, keys) => {
      const file =
        exportHeader(format, true, keys) +
        inputs.map((input, i) => exportRow(format, exported(input, i), keys)).join('');
      const rows = await read(file, { filename: `contacts.${format}` }, 5);
      expect(contacts(rows)).toEqual(
        inputs.map(({ external_ids, ...input }, i) => ({
          ...input,
          external_id: id(i),
          ...(i % 2 === 0 ? { groups: ['Choir', 'Staff; senior, "A"'] } : {}),
          // CSV has no external ids column: the contact's own id comes back as the import's one.
          ...(external_ids && format !== 'csv' ? { external_ids } : {}),
        })),
      );
    },
  );
});

describe('export then import, any contact', () => {
  it.each(['csv', 'jsonl', 'vcf'] as const)(
    'gives back every field, number, label, primary and group of any contact through %s',
    async (format) => {
      await fc.assert(
        fc.asyncProperty(anyContact(0), async ({ input, groups }) => {
          const id = '01a20000-0000-7000-8000-000000000009';
          const file = exportHeader(format) + exportRow(format, exportedOf(input, id, groups));
          const [row] = contacts(await read(file, { format }));
          expect(comparable(row as ImportedContact)).toEqual(
            comparable({ ...input, external_id: id, groups } as ImportedContact),
          );
        }),
        { numRuns: 300 },
      );
    },
  );
});
