import type { Compilable, CompiledQuery, Kysely } from 'kysely';

/**
 * Kysely builds a query's tree and compiles it to SQL on every call: for a lookup by id that
 * is a good part of the request. A prepared query is built once, with markers where its
 * values go, and compiled once per database and organisation (the SQL is the dialect's, and on
 * PostgreSQL a compiled query carries its tenant tag); each call only binds its values.
 *
 * Only fixed shapes qualify: every value must be a plain bound parameter (no IN lists, no
 * optional conditions), which `compile` checks by finding each marker among the parameters.
 */
export interface Prepared<On, P extends Record<string, unknown>, O> {
  readonly build: (on: On, values: P) => Compilable<O>;
  /** By the executor's adapter (one per opened database, so per dialect), then by organisation. */
  readonly compiled: WeakMap<object, Map<string, Bound<O>>>;
}

interface Bound<O> {
  query: CompiledQuery<O>;
  /** For each parameter, the name of the value it takes, or undefined for a constant of the build. */
  slots: (string | undefined)[];
}

/** Organisations whose compiled queries are kept; beyond it the least recently used are dropped. */
const MAX_KEYS = 1000;
const MARKER = '\u0001roster-prepared:';

export function prepare<On, P extends Record<string, unknown>, O>(
  build: (on: On, values: P) => Compilable<O>,
): Prepared<On, P, O> {
  return { build, compiled: new WeakMap() };
}

function compile<On, P extends Record<string, unknown>, O>(prepared: Prepared<On, P, O>, on: On): Bound<O> {
  const markers = new Proxy({} as P, { get: (_target, name) => MARKER + String(name) });
  const query = prepared.build(on, markers).compile();
  const slots = query.parameters.map((value) =>
    typeof value === 'string' && value.startsWith(MARKER) ? value.slice(MARKER.length) : undefined,
  );
  if (query.sql.includes(MARKER)) throw new Error('A prepared query inlined one of its values');
  return { query, slots };
}

/** Runs a prepared query built on `on` for organisation `key` ('*' for instance lookups) through `db`. */
export async function runPrepared<On, P extends Record<string, unknown>, O>(
  prepared: Prepared<On, P, O>,
  db: Pick<Kysely<unknown>, 'executeQuery' | 'getExecutor'>,
  key: string,
  on: On,
  values: P,
): Promise<O[]> {
  const adapter = db.getExecutor().adapter;
  let byKey = prepared.compiled.get(adapter);
  if (!byKey) prepared.compiled.set(adapter, (byKey = new Map()));
  let bound = byKey.get(key);
  if (bound) {
    byKey.delete(key);
  } else {
    bound = compile(prepared, on);
    if (byKey.size >= MAX_KEYS) byKey.delete(byKey.keys().next().value!);
  }
  byKey.set(key, bound);
  const { query, slots } = bound;
  const parameters = query.parameters.map((constant, i) => {
    const name = slots[i];
    return name === undefined ? constant : values[name];
  });
  const result = await db.executeQuery<O>({ ...query, parameters });
  return result.rows;
}
