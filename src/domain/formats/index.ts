import { readCsv } from './csv-reader.js';
import { decodeText, detectFormat, type FormatHints, type ImportFormat } from './detect.js';
import { readJsonLines } from './jsonl-reader.js';
import {
  createMapper,
  type ImportedContact,
  type MappingOptions,
  type SourceRecord,
  type SourceRow,
} from './mapping.js';
import { readVcards } from './vcard-reader.js';

export { FILE_MEDIA_TYPES, formatOf, sniffFormat, type ImportFormat } from './detect.js';
export type { ImportedContact, MappingOptions, Target } from './mapping.js';

/**
 * One row of a file: its number (from 1, a CSV header not counted), the line it starts on,
 * its text as read (for error reports), and the contact it holds or why it holds none.
 */
export type ReadRow =
  | { row: number; line: number; raw: string; contact: ImportedContact }
  | { row: number; line: number; raw: string; error: string };

export interface ReadOptions extends MappingOptions, FormatHints {}

const READERS: Record<ImportFormat, (text: AsyncIterable<string>) => AsyncIterable<SourceRow>> = {
  csv: (text) => readCsv(text),
  vcf: readVcards,
  jsonl: (text) => readJsonLines(text),
};

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
  options?: MappingOptions,
): AsyncIterable<ReadRow>;
export function readContacts(
  input: AsyncIterable<Buffer>,
  formatOrOptions: ImportFormat | ReadOptions = {},
  mappingOptions: MappingOptions = {},
): AsyncIterable<ReadRow> {
  const options =
    typeof formatOrOptions === 'string' ? { ...mappingOptions, format: formatOrOptions } : formatOrOptions;
  return read(input, options, createMapper(options));
}

async function* read(
  input: AsyncIterable<Buffer>,
  hints: FormatHints,
  toContact: (record: SourceRecord) => ImportedContact,
): AsyncIterable<ReadRow> {
  const { format, text } = await detectFormat(decodeText(input), hints);
  for await (const row of READERS[format](text)) {
    yield 'error' in row
      ? row
      : { row: row.row, line: row.line, raw: row.raw, contact: toContact(row.record) };
  }
}
