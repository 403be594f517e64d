/**
 * Bytes to text, as spreadsheets and phones save it: UTF-8 with or without a BOM, and
 * UTF-16 (little- or big-endian) with a BOM, which is what Excel's "Unicode Text" writes.
 */
export async function* decodeText(chunks: AsyncIterable<Buffer>): AsyncIterable<string> {
  let decoder: TextDecoder | undefined;
  let head = Buffer.alloc(0);
  for await (const chunk of chunks) {
    if (!decoder) {
      head = Buffer.concat([head, chunk]);
      if (head.length < 3) continue;
      decoder = new TextDecoder(encodingOf(head), { fatal: false });
      const text = decoder.decode(head, { stream: true });
      if (text) yield text.replace(/^\uFEFF/, '');
      continue;
    }
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  if (!decoder) {
    if (head.length > 0) yield new TextDecoder(encodingOf(head)).decode(head).replace(/^\uFEFF/, '');
    return;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

function encodingOf(head: Buffer): string {
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  return 'utf-8';
}

/** Splits text chunks into lines (without their line ends), for the line-based formats. */
export async function* lines(
  text: AsyncIterable<string>,
  maxLength: number,
): AsyncIterable<string | { tooLong: number }> {
  let pending = '';
  let skipping = false;
  for await (const chunk of text) {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline).replace(/\r$/, '');
      pending = pending.slice(newline + 1);
      if (skipping) {
        skipping = false;
        yield { tooLong: line.length };
      } else yield line;
    }
    if (pending.length > maxLength) {
      skipping = true;
      pending = '';
    }
  }
  if (skipping) yield { tooLong: pending.length };
  else if (pending.length > 0) yield pending.replace(/\r$/, '');
}
