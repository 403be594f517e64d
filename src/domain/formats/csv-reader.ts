import { invalid } from '../errors.js';
import { lazyRequire } from '../lazy.js';
import type { SourceRow } from './mapping.js';

/** A record longer than this is a row error: no contact needs it, and it bounds the memory one row takes. */
const MAX_RECORD_LENGTH = 64 * 1024;

/** csv-parse, loaded by the first import that reads a quoted record. */
const csv = lazyRequire<typeof import('csv-parse/sync')>('csv-parse/sync');

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;
const DELIMITERS = [',', ';', '\t'];

/** A record's text as the splitter found it, or why it could not be read. */
type Framed = { line: number; text: string; quoted: boolean } | { line: number; text: string; error: string };

/**
 * Finds where records end, honouring quoted fields, so each can be refused when too long and
 * the rest of the file still read (csv-parse itself stops for good at its max_record_size).
 * It follows csv-parse's rules with relax_quotes: a quote opens a quoted field only as the
 * field's first character, and inside one, a doubled quote is a quote and any other closes it.
 * Records without a quoted field are found with indexOf, and split on the delimiter as they are.
 */
class RecordSplitter {
  private text = '';
  /** Where the current record begins in `text`. */
  private start = 0;
  /** The next character of the current record to look at. */
  private scan = 0;
  private inQuotes = false;
  /** The record has a quoted field, so csv-parse reads it. */
  private quoted = false;
  private fieldStart = true;
  /** The first quote at or after `scan`, or -1 when there is none before `quoteChecked`. */
  private quoteAt = -1;
  private quoteChecked = 0;
  private line = 1;
  /** Line ends inside the current record's quoted fields. */
  private innerLines = 0;
  /** Characters of an over-long record already let go. */
  private dropped = 0;
  private ended = false;
  private readonly terminatorText: string;

  constructor(
    private readonly delimiter: number,
    private readonly terminator: number,
    private readonly maxLength: number,
  ) {
    this.terminatorText = String.fromCharCode(terminator);
  }

  push(chunk: string): Framed[] {
    this.text += chunk;
    const out: Framed[] = [];
    for (let end = this.findEnd(); end >= 0; end = this.findEnd()) {
      out.push(this.frame(end));
      this.next(end + 1);
    }
    this.compact();
    return out;
  }

  end(): Framed[] {
    this.ended = true;
    const out = this.push('');
    if (this.start < this.text.length || this.dropped > 0) {
      const framed = this.frame(this.text.length);
      out.push(
        this.inQuotes && !('error' in framed)
          ? { line: framed.line, text: framed.text, error: 'a quoted field is never closed' }
          : framed,
      );
    }
    return out;
  }

  private frame(end: number): Framed {
    let last = end;
    if (this.terminator === LF && last > this.start && this.text.charCodeAt(last - 1) === CR) last -= 1;
    const length = this.dropped + last - this.start;
    if (length > this.maxLength)
      return {
        line: this.line,
        text: '',
        error: `the record is longer than ${this.maxLength / 1024} KiB (${length} characters)`,
      };
    return { line: this.line, text: this.text.slice(this.start, last), quoted: this.quoted };
  }

  private next(start: number): void {
    this.start = this.scan = start;
    this.line += 1 + this.innerLines;
    this.innerLines = this.dropped = 0;
    this.inQuotes = this.quoted = false;
    this.fieldStart = true;
  }

  /** The end of the current record, or -1 when the text so far does not finish it. */
  private findEnd(): number {
    if (!this.quoted && !this.inQuotes) {
      const text = this.text;
      const end = text.indexOf(this.terminatorText, this.scan);
      const quote = this.nextQuote(this.scan);
      if (quote < 0 || (end >= 0 && end < quote)) {
        if (end < 0 && text.length > this.scan) {
          this.fieldStart = text.charCodeAt(text.length - 1) === this.delimiter;
          this.scan = text.length;
        }
        return end;
      }
      if (quote > this.scan) this.fieldStart = text.charCodeAt(quote - 1) === this.delimiter;
      this.scan = quote;
    }
    return this.scanQuoted();
  }

  /** Character by character, for a record with a quote in it. */
  private scanQuoted(): number {
    const text = this.text;
    const length = text.length;
    for (let i = this.scan; i < length; i++) {
      const c = text.charCodeAt(i);
      if (this.inQuotes) {
        if (c === QUOTE) {
          // Whether it is a doubled quote depends on the next character, which may not be here yet.
          if (i + 1 === length && !this.ended) {
            this.scan = i;
            return -1;
          }
          if (text.charCodeAt(i + 1) === QUOTE) i += 1;
          else this.inQuotes = false;
        } else if (c === this.terminator) this.innerLines += 1;
      } else if (c === this.terminator) {
        this.scan = i;
        return i;
      } else if (c === this.delimiter) this.fieldStart = true;
      else {
        if (c === QUOTE && this.fieldStart) this.inQuotes = this.quoted = true;
        this.fieldStart = false;
      }
    }
    this.scan = length;
    return -1;
  }

  private nextQuote(from: number): number {
    if (this.quoteAt >= from) return this.quoteAt;
    this.quoteAt = this.text.indexOf('"', this.quoteAt < 0 ? Math.max(from, this.quoteChecked) : from);
    if (this.quoteAt < 0) this.quoteChecked = this.text.length;
    return this.quoteAt;
  }

  /** Lets go of the records read, and of an over-long record's text, keeping positions in step. */
  private compact(): void {
    const tooLong = this.dropped + this.text.length - this.start > this.maxLength;
    const cut = tooLong ? this.scan : this.start;
    if (cut === 0) return;
    if (tooLong) this.dropped += cut - this.start;
    this.text = this.text.slice(cut);
    this.start = Math.max(0, this.start - cut);
    this.scan -= cut;
    // A quote found before the cut has been passed: the next one is looked for afresh.
    if (this.quoteAt >= cut) this.quoteAt -= cut;
    else if (this.quoteAt >= 0) [this.quoteAt, this.quoteChecked] = [-1, 0];
    this.quoteChecked = Math.max(0, this.quoteChecked - cut);
  }
}

/** Blank lines before the header, which tell nothing of the layout. */
const LEADING_BLANK_LINES = /^[\r\n]+/;

/** The record separator (LF, also for CRLF; CR alone as old Mac Excel writes) and the delimiter the header uses most. */
function layoutOf(text: string): { delimiter: string; terminator: number } {
  const head = text.replace(LEADING_BLANK_LINES, '');
  const lf = head.indexOf('\n');
  const cr = head.indexOf('\r');
  const terminator = cr >= 0 && (lf < 0 || cr + 1 < lf) ? CR : LF;
  const end = head.indexOf(String.fromCharCode(terminator));
  const firstLine = end < 0 ? head : head.slice(0, end);
  const unquoted = outsideQuotes(firstLine);
  let delimiter = ',';
  let most = 0;
  for (const candidate of DELIMITERS) {
    const count = unquoted.split(candidate).length - 1;
    if (count > most) [delimiter, most] = [candidate, count];
  }
  return { delimiter, terminator };
}

/** A line with its quoted parts taken out, so "Smith, John" in a header counts no comma. */
const outsideQuotes = (line: string) => line.replace(/"[^"]*"/g, '');

/** Text until the header line's end (and the character after it, to tell CR from CRLF), or the whole of a short file. */
async function readHead(
  source: AsyncIterator<string>,
  maxLength: number,
): Promise<{ head: string; done: boolean }> {
  let head = '';
  for (;;) {
    const body = head.replace(LEADING_BLANK_LINES, '');
    const end = body.search(/[\r\n]/);
    if (end >= 0 && end + 1 < body.length) return { head, done: false };
    if (head.length > maxLength) return { head, done: false };
    const next = await source.next();
    if (next.done) return { head, done: true };
    head += next.value;
  }
}

/**
 * `'=...`: the apostrophe an export puts before a formula-like cell (writers.ts), taken off so
 * exports round-trip; also before a cell that already looked so (`''-`, `'''=`).
 */
const ESCAPED_FORMULA = /^'+[=+\-@\t\r]/;
const unescapeFormula = (cell: string) => (ESCAPED_FORMULA.test(cell) ? cell.slice(1) : cell);

const blank = (cells: string[]) => cells.every((cell) => cell.trim() === '');

/** Turns framed records into rows: the first is the header, blank ones are counted but not yielded. */
class RowBuilder {
  private headers: string[] | undefined;
  private row = 0;

  constructor(
    private readonly delimiter: string,
    private readonly terminator: string,
  ) {}

  rows(framed: Framed[]): SourceRow[] {
    const parsed = this.parseQuoted(framed);
    let next = 0;
    const out: SourceRow[] = [];
    for (const f of framed) {
      if ('error' in f) {
        if (!this.headers) throw invalid('file', `the header row cannot be read: ${f.error}`);
        out.push({ row: ++this.row, line: f.line, raw: f.text, error: f.error });
        continue;
      }
      const cells = f.quoted ? parsed[next++]! : f.text.split(this.delimiter);
      if (!this.headers) {
        if (!blank(cells)) this.headers = headersOf(cells);
        continue;
      }
      this.row += 1;
      if (blank(cells)) continue;
      // A row cut short reads as empty to the end, as spreadsheets save rows whose last cells are empty.
      if (cells.length > this.headers.length) {
        const error = `${cells.length} fields where the header has ${this.headers.length}`;
        out.push({ row: this.row, line: f.line, raw: f.text, error });
        continue;
      }
      const record: Record<string, string> = {};
      for (let i = 0; i < cells.length; i++) record[this.headers[i]!] = unescapeFormula(cells[i]!);
      for (let i = cells.length; i < this.headers.length; i++) record[this.headers[i]!] = '';
      out.push({ row: this.row, line: f.line, raw: f.text, record });
    }
    return out;
  }

  /** The records with quoted fields, read by csv-parse in one call. */
  private parseQuoted(framed: Framed[]): string[][] {
    const texts: string[] = [];
    for (const f of framed) if ('quoted' in f && f.quoted) texts.push(f.text);
    if (texts.length === 0) return [];
    const records = csv().parse(texts.join(this.terminator), {
      delimiter: this.delimiter,
      record_delimiter: this.terminator,
      relax_quotes: true,
      relax_column_count: true,
    }) as string[][];
    if (records.length !== texts.length)
      throw new Error(
        `CSV framing found ${texts.length} quoted records where csv-parse read ${records.length}`,
      );
    return records;
  }
}

/** Header cells as record keys: trimmed, a blank one named by its position, a repeated one numbered. */
function headersOf(cells: string[]): string[] {
  const seen = new Set<string>();
  return cells.map((cell, i) => {
    const base = cell.trim() || `column_${i + 1}`;
    let header = base;
    for (let n = 2; seen.has(header); n++) header = `${base}_${n}`;
    seen.add(header);
    return header;
  });
}

/**
 * CSV (RFC 4180) with a header row, streamed. The delimiter (comma, semicolon or tab) and the
 * line end are read off the header line. A row with fewer fields than the header reads as empty
 * in the rest; a row with more fields than the header, a
 * record over `maxLength` characters and a quoted field never closed are row errors; reading
 * goes on after them. Rows count from 1 after the header, blank rows included (so row N is a
 * spreadsheet's line N + 1 while no cell holds a line break); blank rows are not yielded.
 */
export async function* readCsv(
  text: AsyncIterable<string>,
  maxLength = MAX_RECORD_LENGTH,
): AsyncIterable<SourceRow> {
  const source = text[Symbol.asyncIterator]();
  const { head, done } = await readHead(source, maxLength);
  const { delimiter, terminator } = layoutOf(head);
  const splitter = new RecordSplitter(delimiter.charCodeAt(0), terminator, maxLength);
  const builder = new RowBuilder(delimiter, String.fromCharCode(terminator));
  yield* builder.rows(splitter.push(head));
  if (!done)
    for (let next = await source.next(); !next.done; next = await source.next())
      yield* builder.rows(splitter.push(next.value));
  yield* builder.rows(splitter.end());
}
