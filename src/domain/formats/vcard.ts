import { lines } from './decode.js';
import type { ImportedContact } from './mapping.js';
import { MAX_RECORD_LENGTH, type ReadRow } from './readers.js';

/** vCard's escapes: \n, \, \; and \\. */
const unescape = (value: string) =>
  value.replace(/\\([nN,;\\])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));

function decodeQuotedPrintable(value: string): string {
  const bytes = value
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

interface Property {
  name: string;
  params: string;
  value: string;
}

function property(line: string): Property | undefined {
  const colon = line.indexOf(':');
  if (colon < 0) return undefined;
  const [nameWithGroup = '', ...params] = line.slice(0, colon).split(';');
  const name = nameWithGroup.replace(/^[^.]+\./, '').toUpperCase();
  const joined = params.join(';').toUpperCase();
  const raw = line.slice(colon + 1);
  return {
    name,
    params: joined,
    value: joined.includes('QUOTED-PRINTABLE') ? decodeQuotedPrintable(raw) : raw,
  };
}

function cardToContact(props: Property[]): ImportedContact {
  const contact: ImportedContact = {};
  const phones: Property[] = [];
  for (const p of props) {
    if (p.name === 'FN') contact.name = unescape(p.value);
    else if (p.name === 'N') {
      const [last, first, middle] = p.value.split(';').map(unescape);
      if (first) contact.first_name = first;
      if (middle) contact.middle_name = middle;
      if (last) contact.last_name = last;
    } else if (p.name === 'TEL') phones.push(p);
    else if (p.name === 'EMAIL' && !contact.email) contact.email = unescape(p.value);
    else if (p.name === 'ORG') contact.company = unescape(p.value.split(';')[0] ?? '');
    else if (p.name === 'X-ROSTER-ID' || p.name === 'UID') contact.external_id = unescape(p.value);
    else if (p.name.startsWith('X-ROSTER-CUSTOM-'))
      (contact.custom ??= {})[p.name.slice(16).toLowerCase()] = unescape(p.value);
  }
  // A mobile number is the one a messaging platform wants; other numbers stay as custom attributes.
  const mobile = phones.find((p) => /CELL|MOBILE|IPHONE/.test(p.params)) ?? phones[0];
  for (const p of phones) {
    const number = p.value.replace(/^tel:/i, '');
    if (p === mobile) contact.phone = number;
    else
      (contact.custom ??= {})[
        `phone_${Object.keys(contact.custom ?? {}).filter((k) => k.startsWith('phone_')).length + 2}`
      ] = number;
  }
  if (contact.name && (contact.first_name || contact.last_name)) {
    const parts = [contact.first_name, contact.middle_name, contact.last_name].filter(Boolean).join(' ');
    if (parts === contact.name) delete contact.name;
  }
  return contact;
}

/** vCard 2.1, 3.0 and 4.0, many cards a file, folded lines and quoted-printable as phones export them. */
export async function* readVcards(text: AsyncIterable<string>): AsyncIterable<ReadRow> {
  let row = 0;
  let card: string[] | undefined;
  let props: Property[] = [];
  let previous: string | undefined;
  const flush = () => {
    if (previous === undefined) return;
    const p = property(previous);
    if (p) props.push(p);
    previous = undefined;
  };
  for await (const line of lines(text, MAX_RECORD_LENGTH)) {
    if (typeof line !== 'string') {
      if (card) card.push('');
      continue;
    }
    if (/^[ \t]/.test(line) && previous !== undefined) {
      previous += line.slice(1);
      card?.push(line);
      continue;
    }
    // Quoted-printable soft line breaks continue on the next line.
    if (
      previous !== undefined &&
      /=$/.test(previous) &&
      previous.toUpperCase().includes('QUOTED-PRINTABLE')
    ) {
      previous = previous.slice(0, -1) + line;
      card?.push(line);
      continue;
    }
    flush();
    const upper = line.trim().toUpperCase();
    if (upper === 'BEGIN:VCARD') {
      card = [line];
      props = [];
    } else if (upper === 'END:VCARD' && card) {
      card.push(line);
      row += 1;
      yield { row, raw: card.join('\n'), contact: cardToContact(props) };
      card = undefined;
    } else if (card) {
      card.push(line);
      previous = line;
    }
  }
  if (card) yield { row: row + 1, raw: card.join('\n'), error: 'the last card has no END:VCARD' };
}
