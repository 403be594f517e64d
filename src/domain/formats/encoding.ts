import { invalid } from '../errors.js';
import { lazyRequire } from '../lazy.js';

/** iconv-lite and chardet, loaded by the first file that is not UTF-8. */
const iconv = lazyRequire<typeof import('iconv-lite')>('iconv-lite');
const chardet = lazyRequire<typeof import('chardet')>('chardet');

/** The encoding a file was read in, and how Roster knew it. */
export interface EncodingFound {
  name: string;
  how: 'given' | 'byte-order mark' | 'utf-8' | 'detected';
  /** chardet's confidence, 0-100, for a detected encoding. */
  confidence?: number;
}

export interface DecodeOptions {
  /** Read the file in this encoding (any iconv-lite knows: shift_jis, windows-1251, euc-kr...) instead of finding it. */
  encoding?: string;
  /** Told once which encoding the file is read in (for a file switching from UTF-8, when it switches). */
  onEncoding?: (found: EncodingFound) => void;
}

/** Checks an encoding name up front, so a typo is a 400 rather than a failed job. */
export function checkEncoding(name: string): string {
  if (!iconv().encodingExists(name)) throw invalid('encoding', `${name} is not an encoding Roster can read`);
  return name;
}

/**
 * What legacy encoding some bytes are in, by chardet's statistics (Shift_JIS, EUC-JP, GB18030,
 * Big5, EUC-KR, the ISO-8859 and Windows code pages, KOI8-R...). ISO-8859-1 is read as its
 * superset Windows-1252, which Excel writes; failing any answer, Windows-1252 with confidence 0.
 */
export function guessEncoding(bytes: Uint8Array): { name: string; confidence: number } {
  const best = chardet()
    .analyse(bytes)
    .find((m) => !/^(UTF-8|ASCII)$/i.test(m.name) && iconv().encodingExists(m.name));
  if (!best) return { name: 'windows-1252', confidence: 0 };
  return { name: best.name === 'ISO-8859-1' ? 'windows-1252' : best.name, confidence: best.confidence };
}

/** Bytes in the charset a vCard names, else UTF-8, else as guessed (then `guessed` is told). */
export function decodeBytes(
  bytes: Buffer,
  charset: string | undefined,
  guessed: (found: EncodingFound) => void,
): string {
  if (charset && iconv().encodingExists(charset)) return iconv().decode(bytes, charset);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const guess = guessEncoding(bytes);
    guessed({ name: guess.name, how: 'detected', confidence: guess.confidence });
    return iconv().decode(bytes, guess.name);
  }
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

interface Decoder {
  write(bytes: Buffer): string;
  end(): string;
}

/** UTF-8 that throws on the first byte that is not: the signal to find the file's real encoding. */
function strictUtf8(): Decoder {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return { write: (bytes) => decoder.decode(bytes, { stream: true }), end: () => decoder.decode() };
}

const legacy = (name: string): Decoder => {
  const decoder = iconv().getDecoder(name, { stripBOM: true });
  return { write: (bytes) => decoder.write(bytes), end: () => decoder.end() ?? '' };
};

function bomOf(head: Buffer): string | undefined {
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf-8';
  return undefined;
}

/**
 * Bytes to text, as spreadsheets and phones save it: in the encoding given; else by its
 * byte-order mark (UTF-8, or UTF-16 as Excel's "Unicode Text"); else UTF-8 while it is UTF-8.
 * At the first byte that is not, the encoding is found from the bytes there (chardet: a Shift_JIS
 * CSV from a Japanese phone, a Windows-1252 one from Excel) and reading goes on in it: everything
 * before that byte was ASCII, which reads the same either way. The byte-order mark is dropped,
 * also when split across chunks.
 */
export async function* decodeText(
  chunks: AsyncIterable<Buffer>,
  options: DecodeOptions = {},
): AsyncIterable<string> {
  const tell = options.onEncoding ?? (() => {});
  let head = Buffer.alloc(0);
  let decoder: Decoder | undefined;
  let utf8 = false;
  let previous: Buffer | undefined;
  const start = (bytes: Buffer): Decoder => {
    if (options.encoding) {
      tell({ name: options.encoding, how: 'given' });
      return legacy(options.encoding);
    }
    const bom = bomOf(bytes);
    if (bom && bom !== 'utf-8') {
      tell({ name: bom, how: 'byte-order mark' });
      return legacy(bom);
    }
    utf8 = true;
    // TextDecoder drops a UTF-8 byte-order mark itself, however it is split.
    return strictUtf8();
  };
  for await (const chunk of chunks) {
    let bytes = chunk;
    if (!decoder) {
      head = Buffer.concat([head, chunk]);
      if (head.length < 3) continue;
      decoder = start(head);
      bytes = head;
    }
    try {
      const text = decoder.write(bytes);
      if (text) yield text;
    } catch {
      // Not UTF-8: the bytes of a sequence the previous chunk began are read again with these.
      const carried = previous?.subarray(previous.length - incompleteTail(previous));
      const rest = carried ? Buffer.concat([carried, bytes]) : bytes;
      const guess = guessEncoding(rest);
      tell({ name: guess.name, how: 'detected', confidence: guess.confidence });
      utf8 = false;
      decoder = legacy(guess.name);
      const text = decoder.write(rest);
      if (text) yield text;
    }
    previous = bytes;
  }
  // A file of fewer than three bytes is read here, whole.
  const tail = decoder ? undefined : head;
  decoder ??= head.length > 0 ? start(head) : undefined;
  let rest = '';
  try {
    rest = decoder ? (tail ? decoder.write(tail) : '') + decoder.end() : '';
  } catch {
    // A file cut off inside a UTF-8 sequence ends in a replacement character, not an error.
    rest = tail ? legacy('windows-1252').write(tail) : '\uFFFD';
  }
  if (utf8) tell({ name: 'utf-8', how: 'utf-8' });
  if (rest) yield rest;
}
