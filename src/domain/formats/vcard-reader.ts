import type { FieldWarning } from '../warnings.js';
import { decodeBytes } from './encoding.js';
import { lines, type LongLine } from './lines.js';
import type { SourceRecord, SourceRow } from './mapping.js';
import { ADDRESS_PARTS, type ContactDate, type PostalAddress } from '../contact-details.js';
import { abLabelOf, ANNIVERSARY, BIRTHDAY, dateOf, labelOf } from './details.js';

/** A card longer than this (pictures not counted) is a row error. */
const MAX_CARD_LENGTH = 64 * 1024;

interface Property {
  /** Upper-cased, without its group ("item1.TEL" → "TEL"). */
  name: string;
  /** The group, lower-cased ("item1"): Apple gives a value its label in an X-ABLabel of the same group. */
  group: string;
  /** Upper-cased parameter names → their values as written; vCard 2.1's bare "CELL" is a TYPE. */
  params: Map<string, string[]>;
  /** Quoted-printable decoded; vCard escapes still in, as structured values split on them. */
  value: string;
}

/** Pictures and sounds, inline as base64: not kept, and not counted against the card's length. */
const BINARY = new Set(['PHOTO', 'LOGO', 'SOUND', 'KEY']);
const ENCODINGS = new Set(['QUOTED-PRINTABLE', 'BASE64', 'B', '8BIT', '7BIT']);
const QUOTED_PRINTABLE = /^[^:]*;(ENCODING=)?QUOTED-PRINTABLE[;:]/i;
const ESCAPE = /\\([\\;,nN])/g;
/** RFC 6868's escapes in parameter values: ^' is a double quote, ^n a newline, ^^ a caret. */
const CARET = /\^([\^'n])/g;
const unCaret = (_: string, c: string) => (c === 'n' ? '\n' : c === "'" ? '"' : '^');

const unescapeText = (value: string) =>
  value.replace(ESCAPE, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));

/** Splits `text` at `separator` where it is not inside double quotes. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === separator && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * A structured value's parts (N's family;given;additional;prefix;suffix, ORG's name;unit), split
 * where ';' is not escaped; with ',' a list's items (CATEGORIES:Choir,Sunday\, early).
 */
function components(value: string, separator = ';'): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\') i += 1;
    else if (value[i] === separator) {
      parts.push(unescapeText(value.slice(start, i)));
      start = i + 1;
    }
  }
  parts.push(unescapeText(value.slice(start)));
  return parts;
}

/** vCard 2.1's quoted-printable, as old Android phones export names: bytes in `=XX`. */
function quotedPrintableBytes(value: string, text: BufferEncoding): Buffer {
  const pieces = value.split(/(=[0-9A-Fa-f]{2})/);
  return Buffer.concat(
    pieces.map((piece, i) =>
      i % 2 === 1 ? Buffer.from([parseInt(piece.slice(1), 16)]) : Buffer.from(piece, text),
    ),
  );
}

const NON_ASCII = /[\x80-\xff]/;

/**
 * A value's text. Read byte for byte (`bytes`), it is decoded in the CHARSET its property names
 * (CHARSET=SHIFT_JIS on a raw name, not only a quoted-printable one), else as UTF-8, else in the
 * encoding its bytes look like, with a warning; read as text already, only quoted-printable is.
 */
function valueText(value: string, params: Map<string, string[]>, read: ReadContext, name: string): string {
  const encoding = params.get('ENCODING')?.[0]?.toUpperCase();
  if (encoding === 'B' || encoding === 'BASE64') return '';
  const qp = encoding === 'QUOTED-PRINTABLE';
  if (!qp && !(read.bytes && NON_ASCII.test(value))) return value;
  const bytes = qp
    ? quotedPrintableBytes(value, read.bytes ? 'latin1' : 'utf8')
    : Buffer.from(value, 'latin1');
  return decodeBytes(bytes, params.get('CHARSET')?.[0], (found) => {
    const text = bytes.toString('latin1');
    read.warn({
      kind: 'encoding_guessed',
      field: name,
      value: text,
      reason: `not UTF-8 and no CHARSET: read as ${found.name} (confidence ${found.confidence ?? 0}%); import again with encoding= if it reads wrong`,
    });
  });
}

/** How a card's values are read, and where what could not be read for sure is told. */
interface ReadContext {
  bytes: boolean;
  warn: (warning: FieldWarning) => void;
}

function parseProperty(line: string, read: ReadContext): Property | undefined {
  const [head, ...rest] = splitOutsideQuotes(line, ':');
  if (rest.length === 0 || !head) return undefined;
  const [nameWithGroup = '', ...rawParams] = splitOutsideQuotes(head, ';');
  const params = new Map<string, string[]>();
  for (const param of rawParams) {
    const eq = param.indexOf('=');
    const key =
      eq < 0 ? (ENCODINGS.has(param.toUpperCase()) ? 'ENCODING' : 'TYPE') : param.slice(0, eq).toUpperCase();
    const value = (eq < 0 ? param : param.slice(eq + 1)).replace(/^"(.*)"$/, '$1').replace(CARET, unCaret);
    // TYPE="cell,voice" is a list, as is TYPE=cell,voice.
    const values = key === 'TYPE' ? value.split(',') : [value];
    params.set(key, [...(params.get(key) ?? []), ...values]);
  }
  const dot = nameWithGroup.lastIndexOf('.');
  const name = nameWithGroup.slice(dot + 1).toUpperCase();
  return {
    name,
    group: dot < 0 ? '' : nameWithGroup.slice(0, dot).toLowerCase(),
    params,
    value: BINARY.has(name) ? rest.join(':') : valueText(rest.join(':'), params, read, name),
  };
}

/** A typed value of Roster's own X-ROSTER-CUSTOM, as its VALUE parameter says. */
function customValue(p: Property): string | number | boolean {
  const text = unescapeText(p.value);
  const type = p.params.get('VALUE')?.[0]?.toLowerCase();
  if ((type === 'integer' || type === 'float') && Number.isFinite(Number(text))) return Number(text);
  if (type === 'boolean' && /^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  return text;
}

/** TYPEs that say how, not what kind: not labels. */
const NOT_LABELS = new Set([
  'pref',
  'voice',
  'internet',
  'x400',
  'text',
  'msg',
  'video',
  'textphone',
  'dom',
  'intl',
  'postal',
  'parcel',
]);
/** Of several TYPEs, the one that says most: TYPE=work,fax is a fax. */
const LABEL_ORDER = ['mobile', 'fax', 'pager', 'main', 'work', 'home', 'other'];

/** A property's label: its group's X-ABLabel, else its TYPE (a known kind before the others), else none. */
function labelFor(p: Property, abLabels: Map<string, string>): string | null {
  const ab = p.group && abLabels.get(p.group);
  if (ab) return abLabelOf(ab);
  const types = (p.params.get('TYPE') ?? [])
    .map((t) => t.trim())
    .filter((t) => t && !NOT_LABELS.has(t.toLowerCase()));
  const labels = types.map(labelOf);
  return labels.sort((a, b) => rankOfLabel(a) - rankOfLabel(b))[0] ?? null;
}
const rankOfLabel = (label: string | null) => {
  const at = LABEL_ORDER.indexOf(label ?? '');
  return at < 0 ? LABEL_ORDER.length : at;
};

/** How strongly a property asks to be the preferred one: PREF=1 (vCard 4), TYPE=pref (3.0), a bare PREF (2.1); lower is stronger. */
function preference(p: Property): number {
  const pref = Number(p.params.get('PREF')?.[0]);
  if (Number.isInteger(pref) && pref > 0) return pref;
  return (p.params.get('TYPE') ?? []).some((t) => t.toLowerCase() === 'pref') ? 1 : Infinity;
}

/** The values of one kind (TEL, EMAIL, URL) in the API's shape, the most preferred marked primary. */
function entries(props: Property[], key: 'number' | 'address' | 'url', abLabels: Map<string, string>) {
  const prefs = props.map(preference);
  const best = Math.min(...prefs);
  return props.map((p, i) => ({
    [key]: unescapeText(p.value).replace(/^tel:/i, ''),
    label: labelFor(p, abLabels),
    ...(key !== 'url' && best !== Infinity && prefs.indexOf(best) === i && { primary: true }),
  }));
}

const json = (list: unknown[]) => (list.length > 0 ? JSON.stringify(list) : undefined);

/**
 * A card's properties as a record keyed by canonical field names; numbers, email addresses,
 * postal addresses, dates and links as JSON lists in the API's shape, each with its label
 * (TYPE, or Apple's X-ABLabel of the same group), the PREF one marked primary.
 */
function cardRecord(properties: Property[]): SourceRecord {
  const record: SourceRecord = {};
  const abLabels = new Map<string, string>();
  for (const p of properties)
    if (p.name === 'X-ABLABEL' && p.group) abLabels.set(p.group, unescapeText(p.value));
  const byName = (name: string) => properties.filter((p) => p.name === name);
  const set = (key: string, value: string | undefined) => {
    if (value) record[key] = value;
  };
  const categories: string[] = [];
  const notes: string[] = [];
  const dates: ContactDate[] = [];
  const addresses: PostalAddress[] = [];
  let language: { value: string; pref: number } | undefined;
  let organisations = 0;
  for (const p of properties) {
    const key = p.params.get('KEY')?.[0];
    switch (p.name) {
      case 'FN':
        set('name', unescapeText(p.value));
        break;
      case 'N': {
        const [family, given, additional, prefix, suffix] = components(p.value);
        set('last_name', family);
        set('first_name', given);
        set('middle_name', additional);
        set('custom.name_prefix', prefix);
        set('custom.name_suffix', suffix);
        break;
      }
      case 'ORG': {
        const [company, ...units] = components(p.value);
        // A second organisation (Android writes one ORG per job) is kept whole as a custom attribute.
        if (++organisations > 1)
          set(`custom.organization_${organisations}`, [company, ...units].filter(Boolean).join(', '));
        else {
          set('company', company);
          set('department', units.filter(Boolean).join(', '));
        }
        break;
      }
      case 'TITLE':
        set('title', unescapeText(p.value));
        break;
      case 'NICKNAME':
        set('nickname', unescapeText(p.value));
        break;
      case 'NOTE':
        if (unescapeText(p.value).trim()) notes.push(unescapeText(p.value));
        break;
      case 'ADR': {
        const parts = components(p.value);
        const label = labelFor(p, abLabels);
        const address: PostalAddress = label === null ? {} : { label };
        ADDRESS_PARTS.forEach((part, i) => {
          if (parts[i]?.trim()) address[part] = parts[i];
        });
        addresses.push(address);
        break;
      }
      case 'BDAY':
      case 'ANNIVERSARY':
      case 'X-ANNIVERSARY':
      case 'X-ABDATE': {
        const date = dateOf(unescapeText(p.value), p.params.get('X-APPLE-OMIT-YEAR')?.[0]);
        const ab = p.group && abLabels.get(p.group);
        const label =
          p.name === 'BDAY'
            ? BIRTHDAY
            : p.name.endsWith('ANNIVERSARY')
              ? ANNIVERSARY
              : ab
                ? (abLabelOf(ab, true) ?? 'other')
                : 'other';
        if (date) dates.push({ label, date });
        break;
      }
      case 'CATEGORIES':
        categories.push(
          ...components(p.value, ',')
            .map((item) => item.trim())
            .filter(Boolean),
        );
        break;
      case 'LANG': {
        // The preferred language (PREF=1), not the last one named.
        const pref = preference(p);
        if (!language || pref < language.pref) language = { value: p.value, pref };
        break;
      }
      case 'PHOTO':
        if (/^https?:\/\//i.test(p.value)) set('avatar_url', p.value);
        break;
      case 'X-ROSTER-ID':
        set('external_id', unescapeText(p.value));
        break;
      case 'X-ROSTER-CHANNEL':
        set('channel', unescapeText(p.value));
        break;
      case 'X-ROSTER-EXTERNAL-ID':
        if (key) set(`external_ids.${key}`, unescapeText(p.value));
        break;
      case 'X-ROSTER-CUSTOM':
        if (key) record[`custom.${key}`] = customValue(p);
        break;
    }
  }
  if (!record.title) set('title', byName('ROLE').map((p) => unescapeText(p.value))[0]);
  set('notes', notes.join('\n\n'));
  set('language', language?.value);
  set('phones', json(entries(byName('TEL'), 'number', abLabels)));
  set('emails', json(entries(byName('EMAIL'), 'address', abLabels)));
  set('urls', json(entries(byName('URL'), 'url', abLabels)));
  set('addresses', json(addresses));
  set('dates', json(dates));
  if (categories.length > 0) set('groups', categories.join(' ::: '));
  return record;
}

/** One card being read. */
interface Card {
  line: number;
  /** Its properties' unfolded lines, pictures left out: the row as read, for error reports. */
  lines: string[];
  properties: Property[];
  length: number;
  tooLong: boolean;
  warnings: FieldWarning[];
}

const isEnd = (text: string) => /^END:VCARD$/i.test(text.trim());

/**
 * Reads cards line by line: unfolds continuation lines (a leading space or tab) and
 * quoted-printable soft breaks (a trailing "="), then takes each property as it ends.
 */
class CardReader {
  private card: Card | undefined;
  /** The property being unfolded: its pieces, or only its first line's head once it is too long. */
  private pieces: string[] = [];
  private length = 0;
  private startLine = 0;
  private quotedPrintable = false;
  private lineNumber = 0;
  private row = 0;

  /** `bytes`: the text holds a byte a character, and values are decoded one by one. */
  constructor(private readonly bytes: boolean) {}

  /** A card's text for a report: as the file's bytes say, when they were read one by one. */
  private rawText(card: Card): string {
    const text = card.lines.join('\n');
    return this.bytes && NON_ASCII.test(text) ? Buffer.from(text, 'latin1').toString('utf8') : text;
  }

  /** The row a line finishes, if it finishes one. */
  line(content: string | LongLine): SourceRow | undefined {
    this.lineNumber += 1;
    const text = typeof content === 'string' ? content : content.head;
    const length = content.length;
    if (this.pieces.length > 0 && !isEnd(text)) {
      const last = this.pieces.length - 1;
      if (this.quotedPrintable && this.pieces[last]!.endsWith('=')) {
        this.pieces[last] = this.pieces[last]!.slice(0, -1);
        return this.add(text, length);
      }
      if (text.startsWith(' ') || text.startsWith('\t')) return this.add(text.slice(1), length - 1);
    }
    const finished = this.endProperty();
    this.pieces = [text];
    this.length = length;
    this.startLine = this.lineNumber;
    this.quotedPrintable = QUOTED_PRINTABLE.test(text);
    return finished;
  }

  /** What is left at the end of the file: a card never ended is an error. */
  end(): SourceRow[] {
    const finished = this.endProperty();
    this.pieces = [];
    const rows = finished ? [finished] : [];
    if (this.card) rows.push(this.cardError(this.card, 'the card has no END:VCARD'));
    return rows;
  }

  private add(piece: string, length: number): undefined {
    if (this.length <= MAX_CARD_LENGTH) this.pieces.push(piece);
    this.length += length;
    if (this.length > MAX_CARD_LENGTH) this.pieces.length = 1;
    return undefined;
  }

  private endProperty(): SourceRow | undefined {
    if (this.pieces.length === 0) return undefined;
    const tooLong = this.length > MAX_CARD_LENGTH;
    const text = this.pieces.join('');
    const upper = text.trim().toUpperCase();
    if (upper === 'BEGIN:VCARD') {
      const unended = this.card && this.cardError(this.card, 'the card has no END:VCARD');
      this.card = {
        line: this.startLine,
        lines: [text],
        properties: [],
        length: 0,
        tooLong: false,
        warnings: [],
      };
      return unended;
    }
    const card = this.card;
    if (!card) return undefined;
    if (upper === 'END:VCARD') {
      this.card = undefined;
      if (card.tooLong) return this.cardError(card, `the card is longer than ${MAX_CARD_LENGTH / 1024} KiB`);
      card.lines.push(text);
      return {
        row: ++this.row,
        line: card.line,
        raw: this.rawText(card),
        record: cardRecord(card.properties),
        ...(card.warnings.length > 0 && { warnings: card.warnings }),
      };
    }
    const property = parseProperty(text, { bytes: this.bytes, warn: (w) => card.warnings.push(w) });
    // A picture's data is not kept, so it does not count; a picture given by URL still reads.
    if (property && BINARY.has(property.name)) {
      if (!tooLong) card.properties.push(property);
      return undefined;
    }
    card.length += this.length;
    card.tooLong ||= card.length > MAX_CARD_LENGTH;
    if (card.tooLong) return undefined;
    card.lines.push(text);
    if (property) card.properties.push(property);
    return undefined;
  }

  private cardError(card: Card, error: string): SourceRow {
    return { row: ++this.row, line: card.line, raw: card.tooLong ? '' : this.rawText(card), error };
  }
}

/**
 * vCard 2.1, 3.0 and 4.0, streamed, many cards a file, as phones and address books export them:
 * folded lines, quoted-printable with its charset, escaped \, \; \n, grouped properties
 * ("item1.TEL"). FN, N, TEL, EMAIL, ORG, NOTE, LANG and a PHOTO URL are read, and Roster's own
 * X-ROSTER-* properties (writers.ts); pictures and the rest are not. Rows count cards from 1.
 */
export async function* readVcards(
  text: AsyncIterable<string>,
  options: { bytes?: boolean } = {},
): AsyncIterable<SourceRow> {
  const reader = new CardReader(options.bytes ?? false);
  for await (const line of lines(text, MAX_CARD_LENGTH)) {
    const row = reader.line(line);
    if (row) yield row;
  }
  yield* reader.end();
}
