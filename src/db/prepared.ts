import type { Compilable, CompiledQuery, QueryResult } from 'kysely';

/**
 * Kysely builds a query's tree and compiles it to SQL on every call: for a lookup by id that
 * is a good part of the request. A prepared query is built once, with markers where its
 * values go, and compiled once per executor key (the organisation: on PostgreSQL a compiled
 * query carries its tenant tag); each call only binds its values into the same SQL.
 *
 * Only fixed shapes qualify: every value must be a plain bound parameter (no IN lists, no
 * optional conditions), which `compile` checks by finding each marker among the parameters.
 */
export interface Prepared<On, P extends Record<string, unknown>, O> {
  readonly build: (on: On, values: P) => Compilable<O>;
  readonly compiled: Map<string, Bound<O>>;
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
  return { build, compiled: new Map() };
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

/** Runs a prepared query on `on` (a tenant scope's executor, or the instance database) with these values. */
export async function runPrepared<On, P extends Record<string, unknown>, O>(
  prepared: Prepared<On, P, O>,
  key: string,
  on: On,
  execute: (query: CompiledQuery<O>) => Promise<QueryResult<O>>,
  values: P,
): Promise<O[]> {
  let bound = prepared.compiled.get(key);
  if (bound) {
    prepared.compiled.delete(key);
  } else {
    bound = compile(prepared, on);
    if (prepared.compiled.size >= MAX_KEYS) prepared.compiled.delete(prepared.compiled.keys().next().value!);
  }
  prepared.compiled.set(key, bound);
  const { query, slots } = bound;
  const parameters = query.parameters.map((constant, i) => {
    const name = slots[i];
    return name === undefined ? constant : values[name];
  });
  const result = await execute({ ...query, parameters });
  return result.rows;
}
