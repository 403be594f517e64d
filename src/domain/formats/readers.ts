import { parse } from 'csv-parse';
import { lines } from './decode.js';
import { mapRecord, planColumns, type ImportedContact, type MappingOptions } from './mapping.js';

/** One data row of a file: its number (1 = the first after any header), its text, and what it holds. */
export type ReadRow =
  { row: number; raw: string; contact: ImportedContact } | { row: number; raw: string; error: string };

export const MAX_RECORD_LENGTH = 256 * 1024;

/** Takes off the apostrophe an export puts before a formula-like cell (writers.ts), so exports round-trip. */
const undoFormulaEscape = (cell: string) => (/^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell);

/** Picks the delimiter that splits the header line into the most columns. */
function detectDelimiter(header: string): string {
  const counts = [',', ';', '\t'].map((d) => [d, header.split(d).length] as const);
  return counts.reduce((best, c) => (c[1] > best[1] ? c : best))[0];
}

/** RFC 4180 CSV with a header row; the delimiter (comma, semicolon or tab) is read off the header. */
export async function* readCsv(text: AsyncIterable<string>, options: MappingOptions): AsyncIterable<ReadRow> {
  const source = text[Symbol.asyncIterator]();
  let head = '';
  let exhausted = false;
  while (!head.includes('\n') && head.length <= MAX_RECORD_LENGTH) {
    const next = await source.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    head += next.value;
  }
  const parser = parse({
    delimiter: detectDelimiter(head.split('\n')[0] ?? ''),
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_LENGTH,
    skip_records_with_error: true,
    raw: true,
    info: true,
  });
  const skipped: string[] = [];
  // The parser cannot find the next record after an oversized one, so reading stops there;
  // the records before it are still read.
  let oversizedAt: number | undefined;
  parser.on('skip', (error: Error & { code?: string; lines?: number }) => {
    if (oversizedAt !== undefined) return;
    if (error.code === 'CSV_MAX_RECORD_SIZE') oversizedAt = error.lines ?? 0;
    else skipped.push(`line ${error.lines ?? '?'}: ${error.message}`);
  });
  const feeding = (async () => {
    const write = async (chunk: string) => {
      if (parser.write(chunk)) return;
      // Waits for room or for the end, and leaves no listener behind either way.
      await new Promise<void>((resolve) => {
        const done = () => {
          parser.off('drain', done).off('close', done);
          resolve();
        };
        parser.once('drain', done).once('close', done);
      });
    };
    try {
      await write(head);
      while (!exhausted && !parser.destroyed && oversizedAt === undefined) {
        const next = await source.next();
        if (next.done) break;
        await write(next.value);
      }
      if (!parser.destroyed) parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();
  let plan: ReturnType<typeof planColumns> | undefined;
  let row = 0;
  type Parsed = { record: string[]; raw: string; info: { lines: number } };
  try {
    for await (const { record, raw, info } of parser as AsyncIterable<Parsed>) {
      if (oversizedAt !== undefined && info.lines >= oversizedAt) break;
      if (!plan) {
        plan = planColumns(record, options);
        continue;
      }
      for (const error of skipped.splice(0)) yield { row: ++row, raw: '', error };
      row += 1;
      yield { row, raw: raw.replace(/\r?\n$/, ''), contact: mapRecord(record.map(undoFormulaEscape), plan) };
    }
  } catch (error) {
    if (oversizedAt === undefined) throw error;
  }
  for (const error of skipped.splice(0)) yield { row: ++row, raw: '', error };
  if (oversizedAt !== undefined) {
    const error = `line ${oversizedAt}: a record longer than ${MAX_RECORD_LENGTH / 1024} KiB; the rest of the file was not read`;
    yield { row: ++row, raw: '', error };
  }
  await feeding;
}

/** JSON Lines: one object a line, keys mapped like CSV headers (nested `custom` objects kept). */
export async function* readJsonLines(
  text: AsyncIterable<string>,
  options: MappingOptions,
): AsyncIterable<ReadRow> {
  let row = 0;
  for await (const line of lines(text, MAX_RECORD_LENGTH)) {
    if (typeof line === 'string' && line.trim() === '') continue;
    row += 1;
    if (typeof line !== 'string') {
      yield { row, raw: '', error: `line longer than ${MAX_RECORD_LENGTH} characters` };
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      yield { row, raw: line, error: 'not valid JSON' };
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield { row, raw: line, error: 'not a JSON object' };
      continue;
    }
    const { custom, ...flat } = value as Record<string, unknown>;
    const headers = Object.keys(flat);
    const contact = mapRecord(
      headers.map((h) => (flat[h] === null || flat[h] === undefined ? '' : String(flat[h]))),
      planColumns(headers, options),
    );
    if (custom && typeof custom === 'object')
      contact.custom = { ...(custom as Record<string, string>), ...contact.custom };
    yield { row, raw: line, contact };
  }
}
