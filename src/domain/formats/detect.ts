export type ImportFormat = 'csv' | 'vcf' | 'jsonl';

/**
 * The media types a file is taken in, each with the format it names; text/plain and
 * application/octet-stream name none, so format= or the file's name tells. An import's raw
 * body is read in exactly these, and its OpenAPI requestBody declares them.
 */
const MEDIA_TYPES = new Map<string, ImportFormat | undefined>([
  ['text/csv', 'csv'],
  ['text/x-csv', 'csv'],
  ['text/comma-separated-values', 'csv'],
  ['text/tab-separated-values', 'csv'],
  ['application/csv', 'csv'],
  ['application/vnd.ms-excel', 'csv'],
  ['text/vcard', 'vcf'],
  ['text/x-vcard', 'vcf'],
  ['text/directory', 'vcf'],
  ['application/x-ndjson', 'jsonl'],
  ['application/jsonl', 'jsonl'],
  ['application/x-jsonlines', 'jsonl'],
  ['application/jsonlines', 'jsonl'],
  ['text/plain', undefined],
  ['application/octet-stream', undefined],
]);

export const FILE_MEDIA_TYPES: readonly string[] = [...MEDIA_TYPES.keys()];

const EXTENSIONS = new Map<string, ImportFormat>([
  ['csv', 'csv'],
  ['tsv', 'csv'],
  ['txt', 'csv'],
  ['vcf', 'vcf'],
  ['vcard', 'vcf'],
  ['jsonl', 'jsonl'],
  ['ndjson', 'jsonl'],
]);

/**
 * The format a file claims by its content type, then by its name's extension. Both are Maps,
 * not object literals: in one, a file named "people.constructor" found a member every object
 * inherits and got a function for its format, which was a 500.
 */
export function formatOf(contentType: string | undefined, filename?: string): ImportFormat | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  const byType = type ? MEDIA_TYPES.get(type) : undefined;
  if (byType) return byType;
  const extension = filename?.toLowerCase().match(/\.([a-z]+)$/)?.[1];
  return extension ? EXTENSIONS.get(extension) : undefined;
}

/** The format of a text by its first characters: a vCard begins so, a JSON Lines file with an object, anything else is CSV. */
export function sniffFormat(head: string): ImportFormat {
  const start = head.trimStart();
  if (/^BEGIN:VCARD/i.test(start)) return 'vcf';
  if (start.startsWith('{')) return 'jsonl';
  return 'csv';
}

export interface FormatHints {
  format?: ImportFormat;
  contentType?: string;
  filename?: string;
}

/** Enough bytes to tell "BEGIN:VCARD" from anything else, past leading blank lines. */
const SNIFF_BYTES = 128;

/** The start of a file as text, to sniff: UTF-16 by its byte-order mark, anything else as bytes (the marks sought are ASCII). */
function headText(head: Buffer): string {
  if (head[0] === 0xff && head[1] === 0xfe) return head.subarray(2).toString('utf16le');
  if (head[0] === 0xfe && head[1] === 0xff) return Buffer.from(head.subarray(2)).swap16().toString('utf16le');
  const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  return head.subarray(bom).toString('latin1');
}

/**
 * The format of a file: as given, else as its content type or name says, else by its first
 * characters (an upload sent as application/octet-stream still reads). The bytes come back
 * whole, with whether the file is UTF-16 (which a vCard's per-value charsets cannot apply to).
 */
export async function detectFormat(
  bytes: AsyncIterable<Buffer>,
  hints: FormatHints,
): Promise<{ format: ImportFormat; bytes: AsyncIterable<Buffer>; utf16: boolean }> {
  const source = bytes[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < SNIFF_BYTES) {
    const next = await source.next();
    if (next.done) {
      done = true;
      break;
    }
    chunks.push(next.value);
    length += next.value.length;
  }
  const head = Buffer.concat(chunks);
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
  const format = hints.format ?? formatOf(hints.contentType, hints.filename) ?? sniffFormat(headText(head));
  return { format, bytes: replay(chunks, done ? undefined : source), utf16 };
}

async function* replay<T>(head: T[], rest: AsyncIterator<T> | undefined): AsyncIterable<T> {
  yield* head;
  if (!rest) return;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}
