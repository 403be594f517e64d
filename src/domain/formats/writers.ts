import { stringify } from 'csv-stringify/sync';
import type { Channel, CustomAttributes } from '../contact.js';

export type ExportFormat = 'csv' | 'vcf' | 'jsonl';

/** What an export writes of a contact. */
export interface ExportedContact {
  id: string;
  name: string;
  first_name: string | null;
  middle_name: string | null;
  last_name: string | null;
  company: string | null;
  phone: string | null;
  email: string | null;
  channel: Channel | null;
  language: string | null;
  avatar_url: string | null;
  custom: CustomAttributes;
}

// Every header maps back to its field on import (mapping.ts); `custom` holds the attributes as JSON.
const COLUMNS = [
  'id',
  'name',
  'first_name',
  'middle_name',
  'last_name',
  'company',
  'phone',
  'email',
  'channel',
  'language',
  'avatar_url',
  'custom',
] as const;

/**
 * A cell a spreadsheet would run as a formula (=, +, -, @, tab, carriage return first) gets a
 * leading apostrophe (OWASP's CSV-injection advice). E.164 numbers are left alone: they are
 * plain numbers to a spreadsheet, and escaping them would break the round trip.
 */
function defuse(cell: string): string {
  if (/^\+\d{4,15}$/.test(cell)) return cell;
  return /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
}

const vcardText = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/,/g, '\\,').replace(/;/g, '\\;');

function csvRow(c: ExportedContact): string {
  const cells = COLUMNS.map((column) => {
    if (column === 'custom') return Object.keys(c.custom).length > 0 ? JSON.stringify(c.custom) : '';
    const value = c[column];
    return value === null ? '' : defuse(String(value));
  });
  return stringify([cells], { record_delimiter: '\r\n' });
}

function vcard(c: ExportedContact): string {
  const lines = ['BEGIN:VCARD', 'VERSION:4.0', `FN:${vcardText(c.name)}`];
  lines.push(
    `N:${[c.last_name, c.first_name, c.middle_name, '', ''].map((v) => vcardText(v ?? '')).join(';')}`,
  );
  if (c.phone) lines.push(`TEL;VALUE=uri;TYPE=cell:tel:${c.phone}`);
  if (c.email) lines.push(`EMAIL:${vcardText(c.email)}`);
  if (c.company) lines.push(`ORG:${vcardText(c.company)}`);
  lines.push(`X-ROSTER-ID:${c.id}`);
  for (const [key, value] of Object.entries(c.custom))
    lines.push(`X-ROSTER-CUSTOM-${key.toUpperCase()}:${vcardText(String(value))}`);
  lines.push('END:VCARD');
  return lines.join('\r\n') + '\r\n';
}

/** What comes before the first contact: the header row for CSV, with a BOM for Excel when asked. */
export function exportHeader(format: ExportFormat, bom = false): string {
  if (format !== 'csv') return '';
  return (bom ? '\uFEFF' : '') + stringify([[...COLUMNS]], { record_delimiter: '\r\n' });
}

export function exportRow(format: ExportFormat, contact: ExportedContact): string {
  if (format === 'csv') return csvRow(contact);
  if (format === 'vcf') return vcard(contact);
  const {
    id,
    name,
    first_name,
    middle_name,
    last_name,
    company,
    phone,
    email,
    channel,
    language,
    avatar_url,
    custom,
  } = contact;
  return (
    JSON.stringify({
      id,
      name,
      first_name,
      middle_name,
      last_name,
      company,
      phone,
      email,
      channel,
      language,
      avatar_url,
      custom,
    }) + '\n'
  );
}
