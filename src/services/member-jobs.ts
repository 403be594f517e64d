import { notFound } from '../domain/errors.js';
import { uuidv7 } from '../domain/ids.js';
import { requirePermission } from '../domain/roles.js';
import * as jobs from '../db/repositories/member-jobs.js';
import type { Store } from '../db/store.js';
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
 * progress, instead of a browser sending 10,000 ids a call.
 */
export class MemberJobsService {
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly contacts: ContactsService,
    private readonly groups: GroupsService,
  ) {}

  async start(actor: Actor, groupId: string, filter: MemberFilter): Promise<MemberJob> {
    requirePermission(actor.role, 'write');
    const group = await this.groups.get(actor, { id: groupId });
    // The filter is checked now (a bad q is a 400 here, not a failed job): the first page is read up front.
    await this.contacts.list(actor, { ...filter, limit: 1 });
    const row = {
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
    };
    await jobs.insertMemberJob(this.store.scope(actor.organisationId), row);
    const run: Promise<void> = this.run(actor, group.key, row.id, filter).finally(() =>
      this.running.delete(run),
    );
    this.running.add(run);
    return this.toJob(row, group.id);
  }

  async get(actor: Actor, groupId: string, jobId: string): Promise<MemberJob> {
    requirePermission(actor.role, 'read');
    const group = await this.groups.get(actor, { id: groupId });
    const row = await jobs.findMemberJob(this.store.scope(actor.organisationId), jobId);
    if (!row || row.group_key !== group.key) throw notFound('Job');
    return this.toJob(row, group.id);
  }

  /** Resolves when every job this process started has ended (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.running]);
  }

  private async run(actor: Actor, groupKey: number, id: string, filter: MemberFilter): Promise<void> {
    const scope = this.store.scope(actor.organisationId);
    let cursor: string | undefined;
    let matched = 0;
    let added = 0;
    try {
      do {
        const page = await this.contacts.list(actor, { ...filter, limit: STEP, cursor });
        if (page.items.length > 0) {
          const result = await this.groups.addMembers(
            actor,
            { key: groupKey },
            { ids: page.items.map((c) => c.id) },
          );
          added += result.added;
        }
        matched += page.items.length;
        await jobs.updateMemberJob(scope, id, { matched, added });
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      await jobs.updateMemberJob(scope, id, { status: 'completed', finished_at: Date.now() });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Nobody awaits a job: a database that cannot even record the failure must not crash the process.
      await jobs
        .updateMemberJob(scope, id, { status: 'failed', error: message, finished_at: Date.now() })
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
