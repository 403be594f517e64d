import { decodeText } from './decode.js';
import type { MappingOptions } from './mapping.js';
import { readCsv, readJsonLines, type ReadRow } from './readers.js';
import { readVcards } from './vcard.js';

export type ImportFormat = 'csv' | 'vcf' | 'jsonl';
export type { ReadRow } from './readers.js';
export type { ImportedContact, MappingOptions, Target } from './mapping.js';

/** The format a file claims by its content type or name. */
export function formatOf(contentType: string | undefined, filename?: string): ImportFormat | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const name = (filename ?? '').toLowerCase();
  if (type === 'text/vcard' || type === 'text/x-vcard' || /\.(vcf|vcard)$/.test(name)) return 'vcf';
  if (
    type === 'application/x-ndjson' ||
    type === 'application/jsonl' ||
    type === 'application/x-jsonlines' ||
    /\.(jsonl|ndjson)$/.test(name)
  )
    return 'jsonl';
  if (
    type === 'text/csv' ||
    type === 'text/tab-separated-values' ||
    type === 'application/vnd.ms-excel' ||
    /\.(csv|tsv|txt)$/.test(name)
  )
    return 'csv';
  return undefined;
}

/** Reads contacts from a file's bytes, streamed: memory stays flat however large the file. */
export function readContacts(
  bytes: AsyncIterable<Buffer>,
  format: ImportFormat,
  options: MappingOptions = {},
): AsyncIterable<ReadRow> {
  const text = decodeText(bytes);
  if (format === 'vcf') return readVcards(text);
  if (format === 'jsonl') return readJsonLines(text, options);
  return readCsv(text, options);
}
