import type { FieldWarning } from '../warnings.js';
import { decodeBytes } from './encoding.js';
import { lines, type LongLine } from './lines.js';
import type { SourceRecord, SourceRow } from './mapping.js';

/** A card longer than this (pictures not counted) is a row error. */
const MAX_CARD_LENGTH = 64 * 1024;

interface Property {
  /** Upper-cased, without its group ("item1.TEL" → "TEL"). */
  name: string;
  /** Upper-cased parameter names → their values as written; vCard 2.1's bare "CELL" is a TYPE. */
  params: Map<string, string[]>;
  /** Quoted-printable decoded; vCard escapes still in, as structured values split on them. */
  value: string;
}

/** Pictures and sounds, inline as base64: not kept, and not counted against the card's length. */
const BINARY = new Set(['PHOTO', 'LOGO', 'SOUND', 'KEY']);
const ENCODINGS = new Set(['QUOTED-PRINTABLE', 'BASE64', 'B', '8BIT', '7BIT']);
const QUOTED_PRINTABLE = /^[^:]*;(ENCODING=)?QUOTED-PRINTABLE[;:]/i;
const MOBILE_TYPES = new Set(['CELL', 'MOBILE', 'IPHONE']);
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
  const name = nameWithGroup.slice(nameWithGroup.lastIndexOf('.') + 1).toUpperCase();
  return {
    name,
    params,
    value: BINARY.has(name) ? rest.join(':') : valueText(rest.join(':'), params, read, name),
  };
}

const hasType = (p: Property, types: Set<string>) =>
  (p.params.get('TYPE') ?? []).some((type) => types.has(type.toUpperCase()));

/** A typed value of Roster's own X-ROSTER-CUSTOM, as its VALUE parameter says. */
function customValue(p: Property): string | number | boolean {
  const text = unescapeText(p.value);
  const type = p.params.get('VALUE')?.[0]?.toLowerCase();
  if ((type === 'integer' || type === 'float') && Number.isFinite(Number(text))) return Number(text);
  if (type === 'boolean' && /^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  return text;
}

/** Numbers beyond the first, and the like, kept as custom attributes `<name>_2`, `<name>_3`... */
function keepOthers(record: SourceRecord, name: string, values: string[]): void {
  values.forEach((value, i) => (record[`custom.${name}_${i + 2}`] = value));
}

/**
 * A card's properties as a record keyed by canonical field names. The mobile number (TYPE=CELL)
 * fills `phone`, else the first; the first email fills `email`; the others are kept.
 */
function cardRecord(properties: Property[]): SourceRecord {
  const record: SourceRecord = {};
  const phones: Property[] = [];
  const emails: string[] = [];
  const categories: string[] = [];
  const set = (key: string, value: string | undefined) => {
    if (value) record[key] = value;
  };
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
      case 'TEL':
        phones.push(p);
        break;
      case 'EMAIL':
        emails.push(unescapeText(p.value));
        break;
      case 'ORG':
        set('company', components(p.value)[0]);
        break;
      case 'NOTE':
        set('custom.note', unescapeText(p.value));
        break;
      case 'CATEGORIES':
        categories.push(
          ...components(p.value, ',')
            .map((item) => item.trim())
            .filter(Boolean),
        );
        break;
      case 'LANG':
        set('language', p.value);
        break;
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
  const mobile = phones.find((p) => hasType(p, MOBILE_TYPES)) ?? phones[0];
  const number = (p: Property) => unescapeText(p.value).replace(/^tel:/i, '');
  if (mobile) set('phone', number(mobile));
  keepOthers(record, 'phone', phones.filter((p) => p !== mobile).map(number));
  set('email', emails[0]);
  keepOthers(record, 'email', emails.slice(1));
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
