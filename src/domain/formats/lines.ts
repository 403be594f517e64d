/** A line over the limit, not kept: its first characters, enough to tell what it held, and its length. */
export interface LongLine {
  head: string;
  length: number;
}

const HEAD_LENGTH = 200;

const stripCr = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);

/**
 * Splits text into lines without their ends (LF or CRLF), for the line-based formats. A line
 * longer than `maxLength` comes out as a LongLine, so memory stays bounded whatever a file holds.
 */
export async function* lines(
  text: AsyncIterable<string>,
  maxLength: number,
): AsyncIterable<string | LongLine> {
  // The start of a line that spans chunks, kept in pieces: appending to one string would copy it each chunk.
  let held: string[] = [];
  let heldLength = 0;
  let long: LongLine | undefined;

  const hold = (piece: string) => {
    if (long) long.length += piece.length;
    else if (heldLength + piece.length > maxLength) {
      long = { head: (held.join('') + piece).slice(0, HEAD_LENGTH), length: heldLength + piece.length };
      held = [];
      heldLength = 0;
    } else {
      held.push(piece);
      heldLength += piece.length;
    }
  };
  const take = (): string | LongLine => {
    const line = long ?? stripCr(held.join(''));
    long = undefined;
    held = [];
    heldLength = 0;
    return line;
  };

  for await (const chunk of text) {
    let end = chunk.indexOf('\n');
    if (end < 0) {
      hold(chunk);
      continue;
    }
    hold(chunk.slice(0, end));
    yield take();
    let start = end + 1;
    while ((end = chunk.indexOf('\n', start)) >= 0) {
      const length = end - start;
      yield length > maxLength
        ? { head: chunk.slice(start, start + HEAD_LENGTH), length }
        : stripCr(chunk.slice(start, end));
      start = end + 1;
    }
    if (start < chunk.length) hold(chunk.slice(start));
  }
  if (long || heldLength > 0) yield take();
}
