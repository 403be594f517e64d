export type ImportFormat = 'csv' | 'vcf' | 'jsonl';

/**
 * The media types a file is taken in, each with the format it names; text/plain and
 * application/octet-stream name none, so format= or the file's name tells. An import's raw
 * body is read in exactly these, and its OpenAPI requestBody declares them.
 */
const MEDIA_TYPES = new Map<string, ImportFormat | undefined>([
  ['text/csv', 'csv'],
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

/** Enough text to tell "BEGIN:VCARD" from anything else, past leading blank lines. */
const SNIFF_CHARS = 64;

/**
 * The format of a text: as given, else as its content type or name says, else by its first
 * characters (an upload sent as application/octet-stream still reads). The text comes back whole.
 */
export async function detectFormat(
  text: AsyncIterable<string>,
  hints: FormatHints,
): Promise<{ format: ImportFormat; text: AsyncIterable<string> }> {
  const claimed = hints.format ?? formatOf(hints.contentType, hints.filename);
  if (claimed) return { format: claimed, text };
  const source = text[Symbol.asyncIterator]();
  let head = '';
  let done = false;
  while (head.trimStart().length < SNIFF_CHARS) {
    const next = await source.next();
    if (next.done) {
      done = true;
      break;
    }
    head += next.value;
  }
  return { format: sniffFormat(head), text: replay(head, done ? undefined : source) };
}

async function* replay(head: string, rest: AsyncIterator<string> | undefined): AsyncIterable<string> {
  if (head) yield head;
  if (!rest) return;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

/** How many bytes at the end of a buffer begin a UTF-8 sequence that the next buffer completes. */
function incompleteTail(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if (byte < 0x80) return 0;
    if (byte >= 0xc0) {
      const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return length > back ? back : 0;
    }
  }
  return 0;
}

/**
 * Bytes to text, as spreadsheets and phones save it: UTF-8 with or without a byte-order mark,
 * UTF-16 little- or big-endian with one (Excel's "Unicode Text"). A file that is not UTF-8 is
 * read as Windows-1252, which is what Excel's plain "CSV" writes on Western Windows: everything
 * before its first non-ASCII byte reads the same either way, so the switch happens there.
 * The byte-order mark is dropped, also when it is split across chunks.
 */
export async function* decodeText(chunks: AsyncIterable<Buffer>): AsyncIterable<string> {
  let head = Buffer.alloc(0);
  let decoder: TextDecoder | undefined;
  let previous: Buffer | undefined;
  for await (const chunk of chunks) {
    let bytes = chunk;
    if (!decoder) {
      // Two bytes tell a UTF-16 BOM; a UTF-8 one the UTF-8 decoder drops itself, however it is split.
      head = Buffer.concat([head, chunk]);
      if (head.length < 2) continue;
      decoder = decoderFor(head);
      bytes = head;
    }
    try {
      const text = decoder.decode(bytes, { stream: true });
      if (text) yield text;
    } catch {
      // Not UTF-8: the bytes of a sequence the previous chunk began are read again with these.
      const carried = previous?.subarray(previous.length - incompleteTail(previous));
      decoder = new TextDecoder('windows-1252');
      yield decoder.decode(carried ? Buffer.concat([carried, bytes]) : bytes, { stream: true });
    }
    previous = bytes;
  }
  const rest = decoder ? flush(decoder) : head.length > 0 ? flush(decoderFor(head), head) : '';
  if (rest) yield rest;
}

function decoderFor(head: Buffer): TextDecoder {
  if (head[0] === 0xff && head[1] === 0xfe) return new TextDecoder('utf-16le');
  if (head[0] === 0xfe && head[1] === 0xff) return new TextDecoder('utf-16be');
  return new TextDecoder('utf-8', { fatal: true });
}

/** The end of the text: a file cut off inside a UTF-8 sequence ends in a replacement character, not an error. */
function flush(decoder: TextDecoder, bytes?: Buffer): string {
  try {
    return decoder.decode(bytes);
  } catch {
    return bytes ? new TextDecoder('windows-1252').decode(bytes) : '\uFFFD';
  }
}
