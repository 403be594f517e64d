import { invalid } from '../domain/errors.js';

/** Opaque keyset cursors: the sort they belong to, and the last row's sort value and key. */
export interface CursorPosition {
  sort: string;
  value: string | number;
  key: number;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.sort, position.value, position.key])).toString('base64url');
}

export function decodeCursor(cursor: string, sort: string): { value: string | number; key: number } {
  try {
    const [cursorSort, value, key] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      cursorSort === sort &&
      (typeof value === 'string' || typeof value === 'number') &&
      Number.isSafeInteger(key)
    )
      return { value, key };
  } catch {
    // falls through to the validation error
  }
  throw invalid('cursor', 'is not a cursor this list handed out (or the sort changed)');
}
