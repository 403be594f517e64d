import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Store } from './store.js';

/**
 * A table of jobs that run under leases: its name, the column naming one job, and the statuses a
 * job may be claimed in once its lease has run out. The table has `organisation_id`,
 * `lease_owner` and `lease_expires_at` (migration 0014); its row-level security lets the
 * instance tag read it (a worker looks across organisations).
 */
export interface LeasedTable {
  table: string;
  id: string;
  claimable: readonly string[];
}

/** A job this process now holds. */
export interface Claimed {
  organisationId: string;
  id: string | number;
}

export interface LeaseOptions {
  /** How long a lease lasts without renewal: how soon a dead process's job is taken over. */
  ttlMs: number;
  /** This process's name in `lease_owner`; one is made up when not given. */
  owner?: string;
}

/** Host, process and a random part: a restarted process with the same pid is someone else. */
const processName = () => `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

/**
 * Leases on job rows, for any number of processes over one database. A claim is one UPDATE of
 * a row whose lease is free or has run out: on PostgreSQL its row is picked FOR UPDATE SKIP
 * LOCKED, so processes claiming at once each get a different row and none waits; on SQLite the
 * writer lock makes the UPDATE atomic anyway. A holder renews its lease while it works, and a
 * job's writes are fenced on still holding it (`lease_owner` = this owner), so a process that
 * stalled past its lease cannot write over the one that took the job over.
 */
export class Leases {
  readonly owner: string;
  readonly ttlMs: number;

  constructor(
    private readonly store: Store,
    options: LeaseOptions,
  ) {
    this.owner = options.owner ?? processName();
    this.ttlMs = options.ttlMs;
  }

  /** Claims one job whose lease is free or expired, if any. */
  async claim(on: LeasedTable, now = Date.now()): Promise<Claimed | undefined> {
    const table = sql.table(on.table);
    const id = sql.ref(on.id);
    const free = sql`status in (${sql.join(on.claimable)}) and (lease_expires_at is null or lease_expires_at < ${now})`;
    // A read first: a poll that finds nothing (nearly all of them) takes no write lock.
    const candidates = await sql`select 1 from ${table} where ${free} limit 1`.execute(this.store.db);
    if (candidates.rows.length === 0) return undefined;
    const lock = this.store.dialect === 'postgres' ? sql`for update skip locked` : sql``;
    const { rows } = await sql<{ organisation_id: string; id: string | number }>`
      update ${table} set lease_owner = ${this.owner}, lease_expires_at = ${now + this.ttlMs}
      where ${id} = (select ${id} from ${table} where ${free} order by ${id} limit 1 ${lock}) and ${free}
      returning organisation_id, ${id} as id`.execute(this.store.db);
    const row = rows[0];
    return row && { organisationId: row.organisation_id, id: row.id };
  }

  /** The columns that give a new or resumed job to this process. */
  held(now = Date.now()): { lease_owner: string; lease_expires_at: number } {
    return { lease_owner: this.owner, lease_expires_at: now + this.ttlMs };
  }

  /** Extends this process's lease; false when it no longer holds it (taken over, cancelled elsewhere). */
  async renew(on: LeasedTable, id: string | number, now = Date.now()): Promise<boolean> {
    const result = await sql`update ${sql.table(on.table)} set lease_expires_at = ${now + this.ttlMs}
      where ${sql.ref(on.id)} = ${id} and lease_owner = ${this.owner}`.execute(this.store.db);
    return Number(result.numAffectedRows ?? 0) === 1;
  }

  /** Gives the job up: another process may claim it at once (if its status still allows). */
  async release(on: LeasedTable, id: string | number): Promise<void> {
    await sql`update ${sql.table(on.table)} set lease_owner = null, lease_expires_at = null
      where ${sql.ref(on.id)} = ${id} and lease_owner = ${this.owner}`.execute(this.store.db);
  }

  /**
   * Renews the lease on `id` every third of its life until stopped; `lost` runs once if the
   * lease is gone. A renewal that fails for the database's sake is tried again at the next tick.
   */
  heartbeat(on: LeasedTable, id: string | number, lost: () => void): { stop(): void } {
    const timer = setInterval(() => {
      this.renew(on, id).then(
        (held) => {
          if (held) return;
          clearInterval(timer);
          lost();
        },
        () => undefined,
      );
    }, this.ttlMs / 3);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  /** Jobs waiting or running, and how long the oldest has waited since it was created (metrics). */
  async depth(
    on: LeasedTable & { createdAt: string },
    now = Date.now(),
  ): Promise<{ count: number; ageMs: number }> {
    const { rows } = await sql<{ n: number | string; oldest: number | string | null }>`
      select count(*) as n, min(${sql.ref(on.createdAt)}) as oldest from ${sql.table(on.table)}
      where status in (${sql.join(on.claimable)})`.execute(this.store.db);
    const row = rows[0]!;
    return { count: Number(row.n), ageMs: row.oldest === null ? 0 : now - Number(row.oldest) };
  }
}

/** Thrown inside a job's transaction when its lease is gone: the transaction rolls back, and the job stops quietly. */
export class LeaseLost extends Error {
  constructor() {
    super('the job is no longer leased to this process');
  }
}
