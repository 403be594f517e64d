import type { CustomValue } from '../contact.js';
import { lines } from './lines.js';
import type { SourceRecord, SourceRow } from './mapping.js';

/** A line longer than this is a row error, not a contact. */
const MAX_LINE_LENGTH = 64 * 1024;

const isScalar = (value: unknown): value is CustomValue =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/**
 * An object's scalar values as a record; nested objects flattened with dots, so Roster's own
 * `{"custom": {"tier": "gold"}}` reads as a `custom.tier` column. Nulls are absent; a list of
 * scalars (an export's `groups`) is one cell of values " ::: " apart, as Google writes them.
 */
function flatten(object: Record<string, unknown>, record: SourceRecord = {}, prefix = ''): SourceRecord {
  for (const key in object) {
    const value = object[key];
    if (isScalar(value)) record[prefix + key] = value;
    else if (Array.isArray(value)) {
      // A list of objects (the API's `phones`, `addresses`...) stays JSON, as Roster's CSV export writes it.
      if (value.some((item) => item && typeof item === 'object'))
        record[prefix + key] = JSON.stringify(value);
      else {
        const values = value.filter(isScalar);
        if (values.length > 0) record[prefix + key] = values.join(' ::: ');
      }
    } else if (value && typeof value === 'object' && !Array.isArray(value))
      flatten(value as Record<string, unknown>, record, `${prefix}${key}.`);
  }
  return record;
}

/** What a line holds: a record, or why it is not one. */
function recordOf(line: string): SourceRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not valid JSON';
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  return flatten(value as Record<string, unknown>);
}

/**
 * JSON Lines, streamed: one object a line, its keys mapped like CSV headers. A line that is not
 * a JSON object, or is longer than `maxLength`, is a row error. A row's number is its line's,
 * blank lines counted but not yielded.
 */
export async function* readJsonLines(
  text: AsyncIterable<string>,
  maxLength = MAX_LINE_LENGTH,
): AsyncIterable<SourceRow> {
  let line = 0;
  for await (const content of lines(text, maxLength)) {
    line += 1;
    if (typeof content !== 'string') {
      const error = `the line is longer than ${maxLength / 1024} KiB (${content.length} characters)`;
      yield { row: line, line, raw: content.head, error };
      continue;
    }
    if (content.trim() === '') continue;
    const record = recordOf(content);
    yield typeof record === 'string'
      ? { row: line, line, raw: content, error: record }
      : { row: line, line, raw: content, record };
  }
}
