// Writes a realistic contact CSV: names from many languages, phones in mixed national and
// international formats, 2% bad rows and 5% duplicates of earlier rows.
// Usage: node bench/generate-contacts.mjs ROWS FILE
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { FIRST_NAMES } from './lib/names.mjs';

const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Okafor',
  'Eze',
  'Müller',
  'García',
  'Kierkegaard',
  'Wałęsa',
  'Adeyemi',
  'Tanaka',
  'Chen',
  'Obasanjo',
  'Haddad',
  'Ivanov',
  'Ngata',
  "O'Brien",
  'Mensah',
  'Sharma',
  'Silva',
];
const COMPANY = ['', '', 'Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay'];

/** A mobile number in one of the ways people write them, unique per n. */
function phone(n) {
  const local = String(10_000_000 + (n % 89_999_999)).padStart(8, '0');
  switch (n % 4) {
    case 0:
      return `04${local.slice(0, 2)} ${local.slice(2, 5)} ${local.slice(5)}`;
    case 1:
      return `+61 4${local}`;
    case 2:
      return `614${local}`;
    default:
      return `(04${local.slice(0, 2)}) ${local.slice(2)}`;
  }
}

/** Mailbox names as providers hand them out: plain ASCII. */
const mailbox = (name) =>
  name
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ł/g, 'l')
    .replace(/ø/g, 'o');

const [rows = '1000000', file = 'bench/results/contacts.csv'] = process.argv.slice(2);
const out = createWriteStream(file);
const write = async (line) => {
  if (!out.write(line)) await once(out, 'drain');
};
await write('First Name,Last Name,Mobile Phone,E-mail Address,Company,Tier\n');
for (let i = 0; i < Number(rows); i++) {
  const n = i % 20 === 19 ? i - 7 : i; // 5% repeat an earlier row's person
  const first = FIRST_NAMES[n % FIRST_NAMES.length];
  const last = LAST[(n * 7) % LAST.length];
  if (i % 50 === 49)
    await write(`${first},${last},not a number,bad@,${COMPANY[n % COMPANY.length]},x\n`); // 2% bad: kept with a warning, the number unread
  else
    await write(
      `${first},${last},${phone(n)},${mailbox(first)}.${n}@example.com,${COMPANY[n % COMPANY.length]},${n % 3 === 0 ? 'gold' : 'silver'}\n`,
    );
}
out.end();
await once(out, 'finish');
