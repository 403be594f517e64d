import { notFound } from '../domain/errors.js';
import { uuidv7 } from '../domain/ids.js';
import { requirePermission } from '../domain/roles.js';
import * as jobs from '../db/repositories/member-jobs.js';
import type { Leases } from '../db/leases.js';
import type { Store } from '../db/store.js';
import type { AccountsService } from './accounts.js';
import type { ContactQuery, ContactsService } from './contacts.js';
import type { Actor } from './context.js';
import type { GroupsService } from './groups.js';

/** Which contacts a job adds: the contact list's filters (live contacts only). */
export type MemberFilter = Pick<
  ContactQuery,
  'q' | 'phone' | 'email' | 'consent' | 'updated_since' | 'group_id'
>;

export interface MemberJob {
  id: string;
  group_id: string;
  status: 'running' | 'completed' | 'failed';
  /** Contacts read so far that match the filter. */
  matched: number;
  /** Of those, the ones that were not members yet. */
  added: number;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

/** Contacts read and added per step: one page of the list, one addMembers transaction. */
const STEP = 1000;

/**
 * "Add every contact matching this search" for selections of any size: the server pages through the
 * matches by cursor and adds each page in its own transaction (as POST members would), recording its
 * progress and cursor, instead of a browser sending 10,000 ids a call. The process running a job
 * holds its lease (db/leases.ts); if it dies, another takes the job over from its last cursor.
 */
export class MemberJobsService {
  private readonly running = new Map<string, { stop: boolean; done: Promise<void> }>();

  constructor(
    private readonly store: Store,
    private readonly accounts: AccountsService,
    private readonly contacts: ContactsService,
    private readonly groups: GroupsService,
    private readonly leases: Leases,
  ) {}

  async start(actor: Actor, groupId: string, filter: MemberFilter): Promise<MemberJob> {
    requirePermission(actor.role, 'write');
    const group = await this.groups.get(actor, { id: groupId });
    // The filter is checked now (a bad q is a 400 here, not a failed job): the first page is read up front.
    await this.contacts.list(actor, { ...filter, limit: 1 });
    const row: Omit<jobs.MemberJobRow, 'organisation_id'> = {
      id: uuidv7(),
      group_key: group.key,
      filter: JSON.stringify(filter),
      status: 'running',
      matched: 0,
      added: 0,
      error: null,
      created_by: actor.userId,
      created_at: Date.now(),
      finished_at: null,
      cursor: null,
      ...this.leases.held(),
    };
    await jobs.insertMemberJob(this.store.scope(actor.organisationId), row);
    this.launch(actor, row);
    return this.toJob(row, group.id);
  }

  async get(actor: Actor, groupId: string, jobId: string): Promise<MemberJob> {
    requirePermission(actor.role, 'read');
    const group = await this.groups.get(actor, { id: groupId });
    const row = await jobs.findMemberJob(this.store.scope(actor.organisationId), jobId);
    if (!row || row.group_key !== group.key) throw notFound('Job');
    return this.toJob(row, group.id);
  }

  /** Resolves when every job this process is running has ended (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()].map((run) => run.done));
  }

  /** Shutdown: running jobs stop after their page in flight and give their leases up. */
  async stop(): Promise<void> {
    for (const run of this.running.values()) run.stop = true;
    await this.idle();
  }

  /** Jobs running in every process, and the age of the oldest (metrics). */
  queue(): Promise<{ count: number; ageMs: number }> {
    return this.leases.depth({ ...jobs.MEMBER_JOB_LEASES, createdAt: 'created_at' });
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Claims one job whose process died or gave it up, and goes on from its cursor; false when there is none. */
  async takeOver(): Promise<boolean> {
    const claimed = await this.leases.claim(jobs.MEMBER_JOB_LEASES);
    if (!claimed) return false;
    const scope = this.store.scope(claimed.organisationId);
    const row = await jobs.findMemberJob(scope, String(claimed.id));
    const actor = row && (await this.accounts.jobActor(claimed.organisationId, row.created_by));
    if (row && actor) this.launch(actor, row);
    else if (row)
      await jobs.recordMemberJob(
        scope,
        row.id,
        {
          status: 'failed',
          error: 'the user who started the job is no longer active',
          finished_at: Date.now(),
        },
        this.leases.owner,
      );
    return true;
  }

  private launch(actor: Actor, row: Omit<jobs.MemberJobRow, 'organisation_id'>): void {
    const state = { stop: false, done: Promise.resolve() };
    const heartbeat = this.leases.heartbeat(jobs.MEMBER_JOB_LEASES, row.id, () => (state.stop = true));
    state.done = this.run(actor, row, state).finally(async () => {
      heartbeat.stop();
      this.running.delete(row.id);
      await this.leases.release(jobs.MEMBER_JOB_LEASES, row.id).catch(() => undefined);
    });
    this.running.set(row.id, state);
  }

  private async run(
    actor: Actor,
    job: Omit<jobs.MemberJobRow, 'organisation_id'>,
    state: { stop: boolean },
  ): Promise<void> {
    const scope = this.store.scope(actor.organisationId);
    const owner = this.leases.owner;
    const filter = JSON.parse(job.filter) as MemberFilter;
    let { matched, added } = job;
    let cursor = job.cursor ?? undefined;
    try {
      do {
        if (state.stop) return;
        const page = await this.contacts.list(actor, { ...filter, limit: STEP, cursor });
        if (page.items.length > 0) {
          // Taken over after this page was added but before it was recorded, it is added again: adds nothing.
          const result = await this.groups.addMembers(
            actor,
            { key: job.group_key },
            { ids: page.items.map((c) => c.id) },
          );
          added += result.added;
        }
        matched += page.items.length;
        cursor = page.next_cursor ?? undefined;
        if (!(await jobs.recordMemberJob(scope, job.id, { matched, added, cursor: cursor ?? null }, owner)))
          return;
      } while (cursor);
      await jobs.recordMemberJob(scope, job.id, { status: 'completed', finished_at: Date.now() }, owner);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Nobody awaits a job: a database that cannot even record the failure must not crash the process.
      await jobs
        .recordMemberJob(scope, job.id, { status: 'failed', error: message, finished_at: Date.now() }, owner)
        .catch(() => undefined);
    }
  }

  private toJob(row: Omit<jobs.MemberJobRow, 'organisation_id'>, groupId: string): MemberJob {
    return {
      id: row.id,
      group_id: groupId,
      status: row.status as MemberJob['status'],
      matched: row.matched,
      added: row.added,
      error: row.error,
      created_at: new Date(row.created_at).toISOString(),
      finished_at: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
    };
  }
}
