import { CompiledQuery, type ControlledTransaction, type Kysely } from 'kysely';
import type { Database } from './schema.js';

const CHANGES = CompiledQuery.raw('select total_changes() as changes');

type Work = (db: Kysely<Database>) => Promise<unknown>;

interface Member {
  work: Work;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

interface Group {
  trx: Promise<ControlledTransaction<Database>>;
  /** The members' work, one after the other: the connection runs one statement at a time. */
  tail: Promise<void>;
  members: Member[];
  /** A member failed after it had written: the group is rolled back and the others run alone. */
  broken?: boolean;
}

/**
 * SQLite's transactions, committed in groups. SQLite has one writer, so transactions wait for
 * each other anyway, and a small write's commit (its pages into the WAL, FTS5 flushing a
 * segment, now and then a checkpoint) cost more than the write. A transaction that begins
 * while none is open opens a group; every transaction begun before the end of that turn of
 * the event loop (the requests whose data arrived together) joins it, their work run one
 * after the other (inGroup says what happens when one fails). The group commits on
 * the next turn, once its members are done, and only then is any of them answered: every
 * acknowledged write is as durable as it was committed alone. A lone write waits for no
 * company: the group is whoever is there in the same turn.
 *
 * Requests' reads do not wait for an open group: they run on the reader connection
 * (sqlite-driver.ts) and see only what is committed.
 */
export function groupCommit(root: Kysely<Database>) {
  let open: Group | undefined;

  const close = async (group: Group) => {
    if (open === group) open = undefined;
    await group.tail;
    let trx: ControlledTransaction<Database>;
    try {
      trx = await group.trx;
    } catch (error) {
      // The group could not begin (the database locked by another process past busy_timeout,
      // or closed): nothing of it ran.
      for (const member of group.members) member.reject(error);
      return;
    }
    try {
      if (group.broken) throw new Error('a member failed half-way');
      await trx.commit().execute();
    } catch {
      await trx
        .rollback()
        .execute()
        .catch(() => undefined);
      // Nothing of the group was written. Each failure stands; the others run again, alone.
      for (const member of group.members) {
        if (member.outcome?.ok === false) settle(member);
        else void alone(root, member);
      }
      return;
    }
    for (const member of group.members) settle(member);
  };

  const start = (): Group => {
    const trx = root.startTransaction().execute();
    const group: Group = { trx, tail: trx.then(noop, noop), members: [] };
    setImmediate(() => void close(group));
    return group;
  };

  return function transaction<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const group = open ?? (open = start());
      const member: Member = { work, resolve: resolve as (value: unknown) => void, reject };
      group.members.push(member);
      // A statement of the group's own failing (total_changes(), say) breaks it, like a half-done write.
      group.tail = group.tail.then(() => inGroup(group, member)).catch(() => void (group.broken = true));
    });
  };
}

/**
 * Runs a member's work inside the group's transaction. Most failures (a duplicate, a stale
 * If-Match, a missing record) come before the work writes anything, so no savepoint is kept
 * for them: a savepoint would cost each write its own FTS5 segment, which FTS5 writes out at
 * every release. A failure after a write breaks the group instead (counted by SQLite's
 * total_changes()), and the members after it wait to run alone.
 */
async function inGroup(group: Group, member: Member): Promise<void> {
  const trx = await group.trx.catch(() => undefined);
  if (!trx || group.broken) return;
  const before = await changes(trx);
  try {
    member.outcome = { ok: true, value: await member.work(trx) };
  } catch (error) {
    member.outcome = { ok: false, error };
    if ((await changes(trx).catch(() => Number.NaN)) !== before) group.broken = true;
  }
}

const changes = async (trx: Kysely<Database>) =>
  (await trx.executeQuery<{ changes: number }>(CHANGES)).rows[0]!.changes;

async function alone(root: Kysely<Database>, member: Member): Promise<void> {
  try {
    member.resolve(await root.transaction().execute(member.work));
  } catch (error) {
    member.reject(error);
  }
}

function settle(member: Member): void {
  const outcome = member.outcome!;
  if (outcome.ok) member.resolve(outcome.value);
  else member.reject(outcome.error);
}

const noop = () => undefined;
