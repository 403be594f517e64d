/**
 * Statements take a bounded number of values (SQLite 32,766 bound parameters, PostgreSQL
 * 65,535), so long lists go a thousand at a time.
 */
const CHUNK = 1000;

export function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs a lookup over a list of any length, a chunk at a time, and joins the results. */
export async function inChunks<T, R>(items: T[], lookup: (chunk: T[]) => Promise<R[]>): Promise<R[]> {
  const results: R[] = [];
  for (const chunk of chunks(items)) results.push(...(await lookup(chunk)));
  return results;
}
