/** A keyset page: its rows, and where the next page starts. */
export interface KeysetPage<T> {
  items: T[];
  /** The sort value and key of the last item, when there may be more. */
  next: { value: string | number; key: number } | null;
}

/** A page from `limit + 1` rows: the extra row only says that there is more. */
export function pageOf<T extends { key: number }>(
  rows: T[],
  limit: number,
  sortValue: (row: T) => string | number,
): KeysetPage<T> {
  const items = rows.length > limit ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, next: rows.length > limit && last ? { value: sortValue(last), key: last.key } : null };
}
