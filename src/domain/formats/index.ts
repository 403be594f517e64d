import { readCsv } from './csv-reader.js';
import { detectFormat, type FormatHints, type ImportFormat } from './detect.js';
import { decodeText, type DecodeOptions } from './encoding.js';
import { readJsonLines } from './jsonl-reader.js';
import {
  createMapper,
  type ImportedContact,
  type MappingOptions,
  type SourceRecord,
  type SourceRow,
} from './mapping.js';
import { readVcards } from './vcard-reader.js';
import type { FieldWarning } from '../warnings.js';

export { FILE_MEDIA_TYPES, formatOf, sniffFormat, type ImportFormat } from './detect.js';
export type { ImportedContact, MappingOptions, Target } from './mapping.js';

/**
 * One row of a file: its number (from 1, a CSV header not counted), the line it starts on,
 * its text as read (for error reports), and the contact it holds or why it holds none.
 */
export type ReadRow =
  | { row: number; line: number; raw: string; contact: ImportedContact; warnings?: FieldWarning[] }
  | { row: number; line: number; raw: string; error: string };

export interface ReadOptions extends MappingOptions, FormatHints, DecodeOptions {}

/** Each format's reader; `bytes` says the text holds a byte a character (a vCard's values are decoded one by one). */
const READERS: Record<
  ImportFormat,
  (text: AsyncIterable<string>, bytes: boolean) => AsyncIterable<SourceRow>
> = {
  csv: (text) => readCsv(text),
  vcf: (text, bytes) => readVcards(text, { bytes }),
  jsonl: (text) => readJsonLines(text),
};

async function* latin1(bytes: AsyncIterable<Buffer>): AsyncIterable<string> {
  for await (const chunk of bytes) yield chunk.toString('latin1');
}

/**
 * Reads contacts from a file's bytes, streamed, so memory stays flat however large the file.
 * The format is the one given, else the one the content type or file name says, else the one
 * the first characters show. An explicit mapping to no known target throws a validation error
 * here, before any byte is read.
 */
export function readContacts(input: AsyncIterable<Buffer>, options?: ReadOptions): AsyncIterable<ReadRow>;
/** The same, for a caller that already knows the format (the import jobs). */
export function readContacts(
  input: AsyncIterable<Buffer>,
  format: ImportFormat,
  options?: Omit<ReadOptions, 'format'>,
): AsyncIterable<ReadRow>;
export function readContacts(
  input: AsyncIterable<Buffer>,
  formatOrOptions: ImportFormat | ReadOptions = {},
  mappingOptions: Omit<ReadOptions, 'format'> = {},
): AsyncIterable<ReadRow> {
  const options =
    typeof formatOrOptions === 'string' ? { ...mappingOptions, format: formatOrOptions } : formatOrOptions;
  return read(input, options, createMapper(options));
}

async function* read(
  input: AsyncIterable<Buffer>,
  options: FormatHints & DecodeOptions,
  toContact: (record: SourceRecord) => ImportedContact,
): AsyncIterable<ReadRow> {
  const { format, bytes, utf16 } = await detectFormat(input, options);
  // A vCard may name a charset on any value: read byte for byte (latin1 keeps every byte), each
  // value is decoded in its charset, else UTF-8, else as guessed with a warning (vcard-reader.ts).
  const byValue = format === 'vcf' && !utf16 && !options.encoding;
  if (byValue) options.onEncoding?.({ name: 'utf-8', how: 'utf-8' });
  const text = byValue ? latin1(bytes) : decodeText(bytes, options);
  for await (const row of READERS[format](text, byValue)) {
    yield 'error' in row
      ? row
      : {
          row: row.row,
          line: row.line,
          raw: row.raw,
          contact: toContact(row.record),
          warnings: row.warnings,
        };
  }
}
